"""Staged AgLLNet training: one process, or many under `torchrun` (DDP), resumable exactly after a kill.

Run folder (`out`):
    config.yaml         the resolved TrainConfig (what `--resume` continues with)
    checkpoint.safetensors  training state: weights, EMA, optimizer, scheduler, RNG, step
                        (`training.state_file`: safetensors, nothing pickled; written atomically)
    model/, best/       released weights (EMA) via `save_model`: last step, best validation PSNR
    train.csv, val.csv  one row per log step / validation; tb/ the same as TensorBoard events
    curves.png          loss and validation curves, drawn at the end

Exact resume: the data order of epoch e depends only on (seed, e, rank), so a resumed run rebuilds the
loader, skips the batches already used, then restores the RNG states saved with the checkpoint.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import random
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import torch
from torch import nn

from lowlight_cli.errors import DeviceError, FileError, LowlightError
from lowlight_cli.models.agllnet import AgLLNet
from lowlight_cli.models.build import build_model as build_network
from lowlight_cli.models.config import AgLLNetConfig, LiteConfig
from lowlight_cli.training.losses import TERMS, AgLLNetLoss
from lowlight_cli.training.run_config import STAGES, Stage, TrainConfig

if TYPE_CHECKING:
    from lowlight_cli.models.build import Network
    from lowlight_cli.training.data import PairDataset

StepProgress = Callable[[int, int, str], None]
"""`progress(step, total, status)`: how training reports each step to a front end (the CLI's bar)."""
CHECKPOINT = "checkpoint.safetensors"
CONFIG = "config.yaml"
TRAIN_COLUMNS = ("step", "stage", "lr", "total", *TERMS, "steps_per_s")
VAL_COLUMNS = ("step", "psnr", "ssim")
SUBNETS = {
    "attention": "attention_net",
    "noise": "noise_net",
    "enhance": "enhancement_net",
    "reinforce": "reinforce_net",
}
"""Loss term -> the sub-network it trains (its own output); a stage trains the sub-networks of its terms."""


@dataclass(frozen=True)
class Dist:
    """Where this process runs: torchrun's RANK/WORLD_SIZE/LOCAL_RANK, or a single process."""

    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str) -> Dist:
    """Join the torchrun process group when launched by torchrun (gloo on the CPU, nccl on CUDA)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    if cuda and not torch.cuda.is_available():
        raise DeviceError("device cuda: no usable CUDA device; train with device cpu or auto")
    dev = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if cuda else "gloo")
    return Dist(rank, world, dev)


def with_noise_net(base: AgLLNet) -> AgLLNet:
    """The Noise-Net variant of `base` that computes exactly what `base` computes.

    Every tensor is copied; the FEM's first convolution gains zero-initialised input channels for the
    noise map, so the new Noise-Net cannot change the output until training moves those weights.
    """
    model = AgLLNet(dataclasses.replace(base.config, noise_net=True))
    source = base.state_dict()
    state = model.state_dict()
    for key, tensor in state.items():
        if key not in source:
            continue  # the new Noise-Net keeps its random initialisation
        old = source[key]
        if old.shape != tensor.shape:
            tensor.zero_()
            tensor[:, : old.shape[1]] = old  # only the FEM input grows (3 -> 6 channels)
        else:
            tensor.copy_(old)
    model.load_state_dict(state)
    return model


def build_model(cfg: TrainConfig) -> Network:
    """The run's starting network: `cfg.arch` from scratch (with `cfg.model` overrides), or loaded weights."""
    if cfg.init == "scratch":
        if cfg.arch == "agllnet-lite":
            return build_network(LiteConfig.from_dict(cfg.model))
        arch = AgLLNetConfig(noise_net=cfg.noise_net).to_dict() | cfg.model
        return AgLLNet(AgLLNetConfig.from_dict(arch))
    from lowlight_cli.weights.model_io import load_model

    model = load_model(cfg.init)
    if isinstance(model, AgLLNet) and cfg.noise_net and not model.config.noise_net:
        return with_noise_net(model)
    return model


def predict(model: Network, low: torch.Tensor, terms: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """The outputs the stage's loss terms need, and nothing more (the attention stage skips the rest)."""
    attention = model.attention(low)
    preds: dict[str, torch.Tensor | None] = {"attention": attention}
    if "enhance" in terms or "reinforce" in terms:
        out = model.local(low, attention)
        preds.update(noise=out.noise, enhanced=out.enhanced, result=out.result)
        if out.noise is not None and model.config.signed_noise:
            preds["noise_signed"] = preds.pop("noise")
    elif "noise" in terms and model.noise_net is not None:
        preds["noise"] = model.noise_net(low, attention)
    return {k: v for k, v in preds.items() if v is not None}


class StageForward(nn.Module):
    """`predict` as a module, so DDP can wrap it and synchronise the stage's trainable parameters."""

    def __init__(self, model: Network, terms: tuple[str, ...]) -> None:
        super().__init__()
        self.model, self.terms = model, terms

    def forward(self, low: torch.Tensor) -> dict[str, torch.Tensor]:
        return predict(self.model, low, self.terms)


def lr_factor(cfg: TrainConfig, stage: Stage, step: int) -> float:
    """Multiplier of the stage's peak lr at `step` steps into the stage (warm-up, then the schedule)."""
    import math

    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    if cfg.schedule == "cosine":
        t = (step - cfg.warmup) / max(1, stage.steps - cfg.warmup)
        return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))
    if cfg.schedule == "step":
        return cfg.step_gamma ** (step // cfg.step_size)
    return 1.0


def rng_state() -> dict:
    """Every generator a training step or the loader may draw from,
    as tensors and JSON values (what `training.state_file` stores)."""
    legacy = np.random.get_state()
    assert isinstance(legacy, tuple)  # the default legacy=True form
    kind, keys, pos, has_gauss, gauss = legacy
    state = {
        "torch": torch.get_rng_state(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class Trainer:
    """Holds a run's model, data and logs; `fit()` trains through every stage from the current step."""

    def __init__(
        self, cfg: TrainConfig, run_dir: Path, resume: bool = False, progress: StepProgress | None = None
    ) -> None:
        self.cfg, self.run_dir, self.progress = cfg, run_dir, progress
        self.dist = init_distributed(cfg.device)
        torch.manual_seed(cfg.seed)
        self.model = build_model(cfg).to(self.dist.device)
        multiple = self.model.config.attention_multiple
        if cfg.crop % multiple or cfg.val_crop % multiple:
            raise LowlightError(
                f"config: crop and val_crop must be multiples of {multiple} (the Attention-Net's "
                "downsampling)"
            )
        if cfg.channels_last:
            # torch's stub of Module.to lacks the memory_format keyword that Module.to takes
            self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.ema = self._make_ema()
        from lowlight_cli.training.vgg import load_vgg

        vgg = load_vgg(cfg.vgg_weights) if cfg.losses.perceptual else None
        self.loss = AgLLNetLoss(cfg.losses, vgg).to(self.dist.device)
        self.train_set = self._dataset(train=True)
        self.val_batch = self._validation_batch()
        self.step = 0
        self.best_psnr = -float("inf")
        self._resume_state = self._load_checkpoint() if resume else None
        if self.dist.main:
            run_dir.mkdir(parents=True, exist_ok=True)
            cfg.save(run_dir / CONFIG)
            self._prepare_logs()

    # -- set-up -------------------------------------------------------------------------------------
    def _make_ema(self) -> torch.optim.swa_utils.AveragedModel | None:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        if not self.cfg.ema:
            return None
        return AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(self.cfg.ema), use_buffers=True)

    @property
    def release_model(self) -> Network:
        """The weights that validation measures and `save_model` writes: the EMA when enabled."""
        # AveragedModel keeps a copy of self.model as its `module`
        return cast("Network", self.ema.module) if self.ema is not None else self.model

    def _dataset(self, train: bool) -> PairDataset:
        from lowlight_cli.training.data import MixedPairs, OnTheFlyPairs, RealPairs, SynthPairs

        cfg = self.cfg
        if not train:
            return SynthPairs(cfg.val_data or cfg.data, split="test", crop=cfg.val_crop, flip=False)
        amplify = cfg.reinforce_target == "amplified"
        data: PairDataset
        if cfg.data_mode == "onthefly":
            photos = OnTheFlyPairs(
                cfg.data,
                crop=cfg.crop,
                settings=cfg.synth_settings,
                amplify=amplify,
                quantize=cfg.synth_quantize,
            )
            data = torch.utils.data.ConcatDataset([photos] * cfg.synth_repeats)
        else:
            data = SynthPairs(cfg.data, split="train", crop=cfg.crop)
        if cfg.real_data:
            real = RealPairs(cfg.real_data, split="train", crop=cfg.crop, amplify=amplify)
            data = (
                MixedPairs(data, real, cfg.real_share)
                if cfg.real_share is not None
                else torch.utils.data.ConcatDataset([data, real])
            )
        if len(data) < cfg.batch * self.dist.world:
            raise LowlightError(f"{cfg.data}: {len(data)} training pairs, fewer than one batch per process")
        return data

    def _validation_batch(self) -> dict[str, torch.Tensor] | None:
        """A fixed set of validation crops, drawn once under a fixed seed, so validation uses no RNG."""
        cfg = self.cfg
        if cfg.data_mode == "onthefly" and not cfg.val_data:
            warnings.warn("data_mode=onthefly without val_data: no validation", stacklevel=2)
            return None
        data = self._dataset(train=False)
        if len(data) == 0:
            warnings.warn(f"{cfg.val_data or cfg.data}: empty test split: no validation", stacklevel=2)
            return None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            items = [data[i] for i in range(min(cfg.val_images, len(data)))]
        return {k: torch.stack([it[k] for it in items]) for k in ("low", "high")}

    def _batches(self, start_step: int) -> Iterator[dict[str, torch.Tensor]]:
        """Endless batches; epoch e's order and crops depend only on (seed, e, rank)."""
        from torch.utils.data import DataLoader, DistributedSampler

        cfg, dist = self.cfg, self.dist
        sampler: DistributedSampler[int] = DistributedSampler(
            self.train_set, dist.world, dist.rank, shuffle=True, seed=cfg.seed, drop_last=True
        )
        per_epoch = len(sampler) // cfg.batch
        if per_epoch == 0:
            raise LowlightError(f"{cfg.data}: fewer pairs than one batch per process")
        epoch, skip = divmod(start_step, per_epoch)
        while True:
            sampler.set_epoch(epoch)
            generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch * 1009 + dist.rank)
            loader = DataLoader(
                self.train_set,
                cfg.batch,
                sampler=sampler,
                num_workers=cfg.workers,
                generator=generator,
                drop_last=True,
                pin_memory=dist.device.type == "cuda",
            )
            batches = iter(loader)
            for _ in range(skip):
                next(batches)
            if skip and self._resume_state is not None:
                set_rng_state(self._resume_state["rng"])  # after the replayed batches drew from it
            skip = 0
            yield from batches
            epoch += 1

    # -- checkpoints --------------------------------------------------------------------------------
    def _load_checkpoint(self) -> dict:
        from lowlight_cli.training.state_file import load_state

        path = self.run_dir / CHECKPOINT
        if not path.is_file():
            raise LowlightError(f"{path}: no checkpoint to resume from")
        try:
            state = load_state(path, self.dist.device)
        except (OSError, ValueError) as e:
            raise LowlightError(f"cannot resume: {e}") from None
        self.model.load_state_dict(state["model"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        self.step, self.best_psnr = state["step"], state["best_psnr"]
        set_rng_state(state["rng"])
        return state

    def _save_checkpoint(self, stage_index: int, optimizer: torch.optim.Optimizer, scheduler) -> None:
        from lowlight_cli.io.atomic import atomic_path
        from lowlight_cli.training.state_file import save_state

        state = {
            "step": self.step,
            "stage_index": stage_index,
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": rng_state(),
            "best_psnr": self.best_psnr,
        }
        with atomic_path(self.run_dir / CHECKPOINT) as tmp:
            save_state(tmp, state)

    def save_weights(self, name: str, metrics: dict) -> Path:
        from lowlight_cli.weights.model_io import save_model

        meta = {"step": self.step, "data": self.cfg.data, "init": self.cfg.init, **metrics}
        return save_model(self.release_model, self.run_dir / name, metadata=meta)

    # -- logs ---------------------------------------------------------------------------------------
    def _prepare_logs(self) -> None:
        """Start the CSV logs, or on resume drop rows written after the checkpoint (they will be redone)."""
        for name, columns in (("train.csv", TRAIN_COLUMNS), ("val.csv", VAL_COLUMNS)):
            path = self.run_dir / name
            rows = []
            if self._resume_state is not None and path.exists():
                with open(path, newline="") as f:
                    rows = [r for r in csv.DictReader(f) if int(r["step"]) <= self.step]
            with open(path, "w", newline="") as f:
                writer = csv.DictWriter(f, columns)
                writer.writeheader()
                writer.writerows(rows)
        from torch.utils.tensorboard import SummaryWriter

        self.tb = SummaryWriter(str(self.run_dir / "tb"), purge_step=self.step + 1 if self.step else None)

    def _log(self, name: str, columns: tuple[str, ...], row: dict) -> None:
        with open(self.run_dir / name, "a", newline="") as f:
            csv.DictWriter(f, columns).writerow({k: row.get(k, "") for k in columns})
        for key, value in row.items():
            if key not in ("step", "stage") and value != "":
                self.tb.add_scalar(f"{name[:-4]}/{key}", value, row["step"])

    # -- training -----------------------------------------------------------------------------------
    def _stage_at(self, step: int) -> tuple[int, int]:
        """(stage index, steps already done in it) for a global step."""
        for index, stage in enumerate(self.cfg.stages):
            if step < stage.steps:
                return index, step
            step -= stage.steps
        return len(self.cfg.stages), 0

    def _stage_setup(self, index: int, done: int):
        """Freeze all but the stage's sub-networks; a fresh optimizer and schedule per stage."""
        cfg, stage = self.cfg, self.cfg.stages[index]
        terms = STAGES[stage.name]
        self.model.requires_grad_(False)
        for term in terms:
            sub = getattr(self.model, SUBNETS[term])
            if sub is not None:
                sub.requires_grad_(True)
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=stage.lr or cfg.lr, weight_decay=cfg.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(cfg, stage, s))
        resume = self._resume_state
        if resume is not None and resume["stage_index"] == index and done:
            optimizer.load_state_dict(resume["optimizer"])
            scheduler.load_state_dict(resume["scheduler"])
        forward: nn.Module = StageForward(self.model, terms)
        if self.dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.dist.device.index] if self.dist.device.type == "cuda" else None
            forward = DistributedDataParallel(forward, device_ids=ids, find_unused_parameters=True)
        return terms, params, optimizer, scheduler, forward

    def train_step(self, forward: nn.Module, batch: dict, terms, params, optimizer) -> dict[str, float]:
        cfg, device = self.cfg, self.dist.device
        fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        batch = {k: v.contiguous(memory_format=fmt) if v.ndim == 4 else v for k, v in batch.items()}
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.amp and device.type == "cuda"):
            preds = forward(batch["low"])
        parts = self.loss({k: v.float() for k, v in preds.items()}, batch, terms, cfg.reinforce_target)
        optimizer.zero_grad(set_to_none=True)
        parts["total"].backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        optimizer.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return {k: float(v.detach()) for k, v in parts.items()}

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """PSNR and SSIM (torchmetrics) of the clipped final output against the normal images."""
        from lowlight_cli.evaluation.metrics import psnr, ssim

        model = self.release_model
        was = model.training
        model.eval()
        if self.val_batch is None:
            raise LowlightError("no validation crops: this run has no validation data")
        scores: dict[str, list[float]] = {"psnr": [], "ssim": []}
        for low, high in zip(self.val_batch["low"], self.val_batch["high"], strict=True):
            out = model(low[None].to(self.dist.device)).result.clamp(0, 1).float().cpu()
            scores["psnr"].append(psnr(out, high[None]))
            scores["ssim"].append(ssim(out, high[None]))
        model.train(was)
        return {k: float(np.mean(v)) for k, v in scores.items()}

    def fit(self) -> dict[str, float]:
        """Train from the current step to the end of the last stage; returns the last validation scores."""
        cfg, main = self.cfg, self.dist.main
        total = cfg.total_steps
        batches = self._batches(self.step)
        metrics: dict[str, float] = {}
        pixels = cfg.batch * self.dist.world * cfg.crop**2
        report = self.progress if main else None
        if report:
            report(self.step, total, "")
        while self.step < total:
            index, done = self._stage_at(self.step)
            terms, params, optimizer, scheduler, forward = self._stage_setup(index, done)
            stage = cfg.stages[index]
            self.model.train()
            tic, tic_step = time.perf_counter(), self.step
            for _ in range(stage.steps - done):
                parts = self.train_step(forward, next(batches), terms, params, optimizer)
                scheduler.step()
                self.step += 1
                rate = (self.step - tic_step) / (time.perf_counter() - tic)
                if report:
                    report(
                        self.step,
                        total,
                        f"{stage.name} loss {parts['total']:.4f} · {rate * pixels / 1e3:.3g} kpx/s",
                    )
                if main and (self.step % cfg.log_every == 0 or self.step == total):
                    self._log(
                        "train.csv",
                        TRAIN_COLUMNS,
                        {
                            "step": self.step,
                            "stage": stage.name,
                            "lr": scheduler.get_last_lr()[0],
                            **parts,
                            "steps_per_s": rate,
                        },
                    )
                if (
                    main
                    and self.val_batch is not None
                    and (self.step % cfg.val_every == 0 or self.step == total)
                ):
                    metrics = self.validate()
                    self._log("val.csv", VAL_COLUMNS, {"step": self.step, **metrics})
                    if metrics["psnr"] > self.best_psnr:
                        self.best_psnr = metrics["psnr"]
                        self.save_weights("best", metrics)
                if main and (self.step % cfg.ckpt_every == 0 or self.step == total):
                    self._save_checkpoint(index, optimizer, scheduler)
        if main:
            self.save_weights("model", metrics)
            self.tb.close()
            plot_curves(self.run_dir)
        if self.dist.world > 1:
            torch.distributed.barrier()
        return metrics


def plot_curves(run_dir: Path) -> Path:
    """curves.png: training losses (log scale) and validation PSNR/SSIM against the step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def read(name: str) -> list[dict]:
        with open(run_dir / name, newline="") as f:
            return list(csv.DictReader(f))

    train, val = read("train.csv"), read("val.csv")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for key in ("total", *TERMS):
        points = [(int(r["step"]), float(r[key])) for r in train if r[key]]
        if points:
            axes[0].plot(*zip(*points, strict=True), label=key)
    axes[0].set(title="training loss", xlabel="step", yscale="log")
    axes[0].legend()
    for ax, key in zip(axes[1:], VAL_COLUMNS[1:], strict=True):
        ax.plot([int(r["step"]) for r in val], [float(r[key]) for r in val], marker="o")
        ax.set(title=f"validation {key.upper()}", xlabel="step")
    fig.tight_layout()
    path = run_dir / "curves.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


RUN_FILES = (CHECKPOINT, CONFIG, "train.csv", "val.csv", "curves.png", "model", "best", "tb")
"""What a run writes into its folder (see the module docstring): what `overwrite` replaces, nothing else."""


def existing_run(run_dir: Path) -> list[str]:
    """The files of an earlier run in `run_dir` (empty when there is none)."""
    return [name for name in RUN_FILES if (run_dir / name).exists()]


class RunExistsError(FileError):
    """`cfg.out` already holds a training run, and neither `resume` nor `overwrite` was given."""

    def __init__(self, run_dir: Path, files: list[str]) -> None:
        super().__init__(
            run_dir,
            f"already holds a training run ({', '.join(files)}); continue it with `resume` {run_dir}, "
            "replace it with `overwrite`, or choose another `out`",
        )


def train(
    cfg: TrainConfig,
    resume: bool = False,
    progress: StepProgress | None = None,
    overwrite: bool = False,
) -> dict[str, float] | None:
    """Run (or resume) training into `cfg.out`; the final validation scores on rank 0, None on the others.

    An earlier run in `cfg.out` is never replaced silently (RunExistsError): continue it with `resume`, or
    replace its files with `overwrite`. A read-only or full `cfg.out` is one line before anything is built.
    `progress(step, total, status)` is called on rank 0 after every step (status: stage, loss, kpx/s).
    """
    import shutil

    from lowlight_cli.io.atomic import check_writable_dir

    run_dir = Path(cfg.out)
    earlier = existing_run(run_dir)
    if not resume and earlier:
        if not overwrite:
            raise RunExistsError(run_dir, earlier)
        if int(os.environ.get("RANK", "0")) == 0:
            for name in earlier:
                path = run_dir / name
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    check_writable_dir(run_dir)
    trainer = Trainer(cfg, run_dir, resume=resume, progress=progress)
    metrics = trainer.fit()
    return metrics if trainer.dist.main else None
