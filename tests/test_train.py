"""Training: losses, VGG loading, config, Noise-Net expansion, loss reduction, exact resume, CLI, DDP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lowlight_cli.training.losses import AgLLNetLoss, bright_loss, region_loss
from lowlight_cli.training.run_config import LossWeights, TrainConfig, load_config

TINY_MODEL = {
    "attention_channels": [4, 4, 4],
    "fem_layers": 2,
    "fem_channels": 4,
    "branches": ["can", "resnet"],
    "branch_attention": [False, True],
    "can_channels": 4,
    "can_dilations": [1, 2],
    "noise_channels": 4,
    "noise_dilations": [1],
}
"""A few thousand parameters: every sub-network, small enough for CPU tests."""


def tiny_config(data: Path, out: Path, **overrides) -> TrainConfig:
    base = TrainConfig().to_dict() | {
        "data": str(data),
        "out": str(out),
        "init": "scratch",
        "model": TINY_MODEL,
        "crop": 32,
        "val_crop": 64,
        "batch": 2,
        "workers": 0,
        "lr": 3e-3,
        "val_every": 4,
        "ckpt_every": 4,
        "log_every": 1,
        "val_images": 2,
        "ema": 0.9,
        "stages": [{"name": "attention", "steps": 2}, {"name": "joint", "steps": 6}],
    }
    return TrainConfig.from_dict(base | overrides)


def batch_of(n: int = 2, size: int = 32, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    high = torch.rand(n, 3, size, size, generator=g)
    low_clean = high**3 * 0.5
    noise = 0.02 * torch.randn(n, 3, size, size, generator=g)
    attention = (high.amax(1, keepdim=True) - low_clean.amax(1, keepdim=True)) / high.amax(1, keepdim=True)
    return {
        "high": high,
        "low": low_clean + noise,
        "low_clean": low_clean,
        "noise": noise,
        "attention": attention,
        "amplified": high.clamp(0, 1) ** 0.9,
    }


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models gain nothing from intra-op threads, and lose a lot to them on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- losses ----------------------------------------------------------------------------------------
def test_every_loss_term_is_zero_at_the_target_and_positive_elsewhere():
    batch = batch_of()
    perfect = {
        "attention": batch["attention"],
        "noise": batch["noise"].abs(),
        "enhanced": batch["high"],
        "result": batch["amplified"],
    }
    loss = AgLLNetLoss(LossWeights())
    parts = loss(perfect, batch)
    assert set(parts) == {"attention", "noise", "enhance", "reinforce", "total"}
    for name, value in parts.items():
        assert float(value) == pytest.approx(0.0, abs=1e-5), name
    off = {k: v + 0.1 for k, v in perfect.items()}
    assert all(float(v) > 1e-3 for v in loss(off, batch).values())


def test_bright_loss_costs_under_brightening_lambda_times_more():
    target = torch.full((1, 3, 16, 16), 0.5)
    over = bright_loss(target + 0.1, target, under=3.0)
    under = bright_loss(target - 0.1, target, under=3.0)
    assert float(under) == pytest.approx(3.0 * float(over))


def test_region_loss_cannot_move_the_attention_map():
    batch = batch_of()
    attention = batch["attention"].clone().requires_grad_(True)
    pred = (batch["high"] * 0.8).requires_grad_(True)
    region_loss(pred, batch["high"], attention).backward()
    assert attention.grad is None and pred.grad.abs().sum() > 0


def test_stage_terms_select_only_their_losses():
    batch = batch_of()
    preds = {"attention": batch["attention"] * 0.5}
    parts = AgLLNetLoss(LossWeights())(preds, batch, terms=("attention",))
    assert set(parts) == {"attention", "total"}
    with pytest.raises(ValueError):
        AgLLNetLoss(LossWeights(attention=0))(preds, batch, terms=("attention",))


# -- VGG -------------------------------------------------------------------------------------------
def test_vgg_loads_weights_from_safetensors_and_adds_a_perceptual_term(tmp_path):
    from safetensors.torch import save_file

    from lowlight_cli.training.vgg import VGGFeatures, load_vgg

    torch.manual_seed(0)
    random_vgg = VGGFeatures()
    state = {k: v.contiguous() for k, v in random_vgg.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)  # a full VGG-19 file carries more; it is ignored
    save_file(state, str(tmp_path / "vgg19.safetensors"))
    vgg = load_vgg(str(tmp_path / "vgg19.safetensors"))
    assert vgg is not None and not any(p.requires_grad for p in vgg.parameters())
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(vgg(x), random_vgg(x)) and vgg(x).shape == (1, 256, 8, 8)
    batch = batch_of()
    preds = {"enhanced": batch["high"] * 0.9, "attention": batch["attention"]}
    with_vgg = AgLLNetLoss(LossWeights(), vgg)(preds, batch, terms=("enhance",))["enhance"]
    without = AgLLNetLoss(LossWeights())(preds, batch, terms=("enhance",))["enhance"]
    assert float(with_vgg) > float(without)


@pytest.mark.parametrize("source", [None, "missing/vgg19.safetensors", "hf://nobody/none/vgg.safetensors"])
def test_missing_vgg_weights_drop_the_perceptual_term_with_a_warning(source, monkeypatch):
    from lowlight_cli.training.vgg import load_vgg

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.warns(UserWarning, match="without the perceptual loss"):
        assert load_vgg(source) is None


# -- config ----------------------------------------------------------------------------------------
def test_config_reads_yaml_then_applies_overrides_in_order(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("crop: 256\nlosses: {region: 2.0}\nstages: [{name: attention, steps: 5}]\n")
    cfg = load_config(path, ("losses.under=4", "batch=2", "stages=[{name: joint, steps: 7, lr: 0.01}]"))
    assert cfg.crop == 256 and cfg.batch == 2
    assert cfg.losses.region == 2.0 and cfg.losses.under == 4.0 and cfg.losses.bright == LossWeights().bright
    assert cfg.total_steps == 7 and cfg.stages[0].lr == 0.01
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "override", ["crops=3", "losses.nope=1", "stages=[{name: warmup, steps: 1}]", "schedule=linear"]
)
def test_config_rejects_unknown_settings(override):
    from lowlight_cli.errors import LowlightError

    with pytest.raises(LowlightError):
        load_config(None, (override,))


# -- model ------------------------------------------------------------------------------------------
def test_noise_variant_from_official_style_weights_starts_at_the_same_output():
    from lowlight_cli.models.agllnet import AgLLNet
    from lowlight_cli.models.config import AgLLNetConfig
    from lowlight_cli.training.trainer import with_noise_net

    torch.manual_seed(0)
    base = AgLLNet(AgLLNetConfig.from_dict(TINY_MODEL | {"noise_net": False})).eval()
    variant = with_noise_net(base).eval()
    assert variant.noise_net is not None
    variant.noise_net.can.head.bias.data.fill_(0.5)  # a noise map that is surely non-zero
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        a, b = base(x), variant(x)
    assert b.noise is not None and b.noise.abs().sum() > 0  # the Noise-Net runs...
    torch.testing.assert_close(
        b.reinforced, a.reinforced, rtol=0, atol=0
    )  # ...but cannot change the output yet


def test_a_gated_model_is_trained_on_what_inference_returns():
    """With an attention gate the reinforce loss scores the gated blend (`result`), not the raw Reinforce-Net
    output, and its gradient reaches the Attention-Net through the gate's weight."""
    from lowlight_cli.models.agllnet import AgLLNet
    from lowlight_cli.models.config import AgLLNetConfig
    from lowlight_cli.training.trainer import predict

    torch.manual_seed(0)
    model = AgLLNet(AgLLNetConfig.from_dict(TINY_MODEL | {"noise_net": True, "attention_gate": [0.0, 1.0]}))
    batch = batch_of()
    preds = predict(model, batch["low"], ("attention", "noise", "enhance", "reinforce"))
    with torch.no_grad():
        out = model(batch["low"])
    torch.testing.assert_close(preds["result"], out.result)
    assert not torch.allclose(out.result, out.reinforced)  # the gate is active, so the two differ
    AgLLNetLoss(LossWeights())(preds, batch, terms=("reinforce",))["total"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.attention_net.parameters())


# -- training --------------------------------------------------------------------------------------
def test_noise_loss_skips_pairs_whose_noise_is_unknown():
    from lowlight_cli.training.losses import noise_loss

    batch = batch_of(n=3)
    pred = batch["noise"].abs() + torch.tensor([0.0, 0.0, 5.0]).view(3, 1, 1, 1)  # third one far off
    assert float(noise_loss(pred, batch["noise"])) > 1.0
    assert float(noise_loss(pred, batch["noise"], torch.tensor([[1.0], [1.0], [0.0]]))) == pytest.approx(
        0.0, abs=1e-7
    )


@pytest.mark.integration
def test_real_pairs_have_the_synth_keys_and_mix_into_training(synth_dir, tmp_path):
    from _synthdata import make_lol_dir

    from lowlight_cli.synth.targets import attention_map
    from lowlight_cli.training.data import RealPairs, SynthPairs
    from lowlight_cli.training.trainer import Trainer

    lol = make_lol_dir(tmp_path / "lol", n=12)
    real = RealPairs(lol, "train", crop=None, flip=False)
    item = real[0]
    assert item.keys() == SynthPairs(synth_dir, crop=32)[0].keys() and float(item["noise_known"]) == 0.0
    low, high = (item[k].permute(1, 2, 0).numpy() for k in ("low", "high"))
    np.testing.assert_allclose(item["attention"][0].numpy(), attention_map(high, low), atol=1e-6)
    assert float(item["low"].mean()) < 0.5 * float(item["high"].mean())

    cfg = tiny_config(synth_dir, tmp_path / "run", real_data=str(lol), stages=[{"name": "joint", "steps": 3}])
    calls = []
    trainer = Trainer(cfg, tmp_path / "run", progress=lambda *call: calls.append(call))
    assert len(trainer._dataset(train=True)) == len(SynthPairs(synth_dir)) + len(real)
    trainer.fit()
    assert [(step, total) for step, total, _ in calls] == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert calls[0][2] == "" and all(status.startswith("joint loss ") for _, _, status in calls[1:])
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()


def test_synth_settings_of_on_the_fly_pairs_come_from_the_config():
    from lowlight_cli.errors import LowlightError

    cfg = TrainConfig.from_dict(TrainConfig().to_dict() | {"synth": {"cast_share": 0.1, "gamma": [2, 3]}})
    assert cfg.synth_settings.cast_share == 0.1 and cfg.synth_settings.gamma == (2, 3)
    with pytest.raises(LowlightError, match="synth"):
        TrainConfig.from_dict(TrainConfig().to_dict() | {"synth": {"cast_sahre": 0.1}})


def test_real_share_fixes_the_real_fraction_of_an_epoch():
    from lowlight_cli.training.data import MixedPairs

    synthetic, real = [("s", i) for i in range(30)], [("r", i) for i in range(4)]
    mixed = MixedPairs(synthetic, real, 0.25)
    items = [mixed[i] for i in range(len(mixed))]
    assert len(items) == 40 and sum(kind == "r" for kind, _ in items) == 10  # 10 / 40 = 0.25
    assert {i for kind, i in items if kind == "r"} == set(range(4))  # cycles through every real pair
    assert len(MixedPairs(synthetic, real, 0.0)) == 30
    with pytest.raises(ValueError):
        MixedPairs(synthetic, real, 1.0)


@pytest.mark.integration
def test_on_the_fly_photos_mix_with_real_pairs_and_train(synth_dir, tmp_path):
    from _synthdata import make_lol_dir

    from lowlight_cli.training.trainer import Trainer

    lol = make_lol_dir(tmp_path / "lol", n=12)
    photos = synth_dir / "train" / "high"
    cfg = tiny_config(
        photos,
        tmp_path / "run",
        data_mode="onthefly",
        val_data=str(synth_dir),
        real_data=str(lol),
        real_share=0.5,
        synth_repeats=2,
        synth_quantize=True,
        reinforce_target="high",
        stages=[{"name": "joint", "steps": 2}],
    )
    trainer = Trainer(cfg, tmp_path / "run")
    n_photos = len(list(photos.iterdir()))
    assert (
        len(trainer._dataset(train=True)) == 2 * n_photos + 2 * n_photos
    )  # share 0.5: as many real as synthetic
    item = trainer.train_set[0]
    assert torch.equal(item["amplified"], item["high"])  # not built when Reinforce-Net trains toward `high`
    torch.testing.assert_close(item["low"] * 255, (item["low"] * 255).round(), atol=1e-3, rtol=0)  # quantized
    trainer.fit()
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()


@pytest.mark.integration
def test_training_reduces_the_loss_on_a_tiny_set(synth_dir, tmp_path):
    from lowlight_cli.training.trainer import Trainer

    cfg = tiny_config(
        synth_dir, tmp_path / "run", ema=0.0, stages=[{"name": "joint", "steps": 20}], val_every=20
    )
    trainer = Trainer(cfg, tmp_path / "run")
    batch = trainer.val_batch | {
        k: v for k, v in next(iter(_full_batch(trainer))).items() if k not in ("low", "high")
    }

    def loss_now() -> float:
        with torch.no_grad():
            out = trainer.model(batch["low"])
        return float(trainer.loss(vars(out), batch)["total"])

    before = loss_now()
    trainer.fit()
    assert loss_now() < 0.8 * before
    run = tmp_path / "run"
    assert (run / "model" / "model.safetensors").is_file() and (run / "curves.png").stat().st_size > 10_000
    assert (run / "config.yaml").is_file() and any((run / "tb").iterdir())


def _full_batch(trainer):
    """The validation crops' other targets, drawn the same way `_validation_batch` draws them."""
    data = trainer._dataset(train=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(trainer.cfg.seed)
        items = [data[i] for i in range(len(trainer.val_batch["low"]))]
    yield {k: torch.stack([it[k] for it in items]) for k in items[0]}


@pytest.mark.integration
@pytest.mark.parametrize("workers", [0, 1])
def test_a_killed_run_resumes_to_exactly_the_uninterrupted_result(synth_dir, tmp_path, monkeypatch, workers):
    from lowlight_cli.training.state_file import load_state
    from lowlight_cli.training.trainer import CHECKPOINT, Trainer

    straight = tiny_config(synth_dir, tmp_path / "straight", workers=workers)
    Trainer(straight, tmp_path / "straight").fit()

    killed = tiny_config(synth_dir, tmp_path / "killed", workers=workers)
    real_step = Trainer.train_step
    calls = {"n": 0}

    def dying_step(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 6:  # two steps after the step-4 checkpoint: those two are lost
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "train_step", dying_step)
    with pytest.raises(KeyboardInterrupt):
        Trainer(killed, tmp_path / "killed").fit()
    monkeypatch.setattr(Trainer, "train_step", real_step)
    assert load_state(tmp_path / "killed" / CHECKPOINT)["step"] == 4
    Trainer(killed, tmp_path / "killed", resume=True).fit()

    a = load_state(tmp_path / "straight" / CHECKPOINT)
    b = load_state(tmp_path / "killed" / CHECKPOINT)
    assert a["step"] == b["step"] == 8
    for key in ("model", "ema", "optimizer"):
        flat_a, flat_b = _tensors(a[key]), _tensors(b[key])
        assert flat_a.keys() == flat_b.keys()
        for name in flat_a:
            torch.testing.assert_close(flat_b[name], flat_a[name], rtol=0, atol=1e-6, msg=f"{key}.{name}")
    assert (tmp_path / "killed" / "train.csv").read_text().count("\n") == 9  # header + 8 steps, none twice
    assert _losses(tmp_path / "killed") == pytest.approx(_losses(tmp_path / "straight"), abs=1e-6)


def _tensors(tree, prefix="") -> dict[str, torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        return {prefix: tree}
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, (list, tuple)):
        items = enumerate(tree)
    else:
        return {}
    return {k: v for key, sub in items for k, v in _tensors(sub, f"{prefix}.{key}").items()}


def _losses(run: Path) -> list[float]:
    import csv

    with open(run / "train.csv", newline="") as f:
        return [float(r["total"]) for r in csv.DictReader(f)]


@pytest.mark.integration
def test_cli_trains_from_a_yaml_file_and_refuses_mixed_resume(synth_dir, tmp_path):
    import yaml
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app

    cfg = tiny_config(synth_dir, tmp_path / "ignored").to_dict()
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "cli-run"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "-c",
            str(tmp_path / "run.yaml"),
            "--out",
            str(out),
            "--set",
            "stages=[{name: joint, steps: 2}]",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "trained 2 steps" in result.output
    saved = load_config(out / "config.yaml")
    assert saved.out == str(out) and saved.total_steps == 2
    result = CliRunner().invoke(app, ["train", "--resume", str(out), "--set", "lr=1"])
    assert result.exit_code == 1 and "--resume" in result.output


@pytest.mark.slow
@pytest.mark.integration
def test_torchrun_two_cpu_processes_train_with_gloo(synth_dir, tmp_path):
    import yaml

    cfg = tiny_config(synth_dir, tmp_path / "ddp", stages=[{"name": "joint", "steps": 4}], batch=1).to_dict()
    (tmp_path / "ddp.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
        "-m",
        "lowlight_cli",
        "train",
        "-c",
        str(tmp_path / "ddp.yaml"),
        "-q",
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, env=os.environ | {"OMP_NUM_THREADS": "1"}
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("trained 4 steps") == 1  # rank 0 reports...
    run = tmp_path / "ddp"
    assert _losses(run) and len(_losses(run)) == 4  # ...but only rank 0 writes
    assert (run / "model" / "model.safetensors").is_file()


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory) -> Path:
    from _synthdata import make_synth_dir

    return make_synth_dir(tmp_path_factory.mktemp("train-data"))
