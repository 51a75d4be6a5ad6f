"""`lowlight train`: train or fine-tune AgLLNet on `lowlight synth` pairs (see docs/training.md).

Examples:
    lowlight train -c configs/agllnet-noise-finetune.yaml --data lowlight-synth --out runs/noise
    lowlight train -c configs/agllnet-scratch.yaml --set crop=256 --set losses.region=2
    lowlight train --resume runs/noise                         # continue exactly after a kill
    torchrun --nproc_per_node 4 -m lowlight_cli train -c configs/agllnet-noise-finetune.yaml
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from lowlight_cli.cli.console import console, escape, progress_bar, user_errors
from lowlight_cli.errors import LowlightError


@user_errors
def train(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML file of TrainConfig settings.")
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override one setting, e.g. --set lr=3e-4 --set losses.region=2."),
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", help="Synth folder (or photo folder with data_mode=onthefly).")
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Run folder: checkpoints, logs, weights.")
    ] = None,
    init: Annotated[str | None, typer.Option("--init", help="Weights to start from, or `scratch`.")] = None,
    resume: Annotated[
        Path | None,
        typer.Option("--resume", help="Continue the run in this folder with its saved config."),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite", help="Replace an earlier run in --out (default: refuse; --resume continues it)."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Train AgLLNet (staged or joint, from the official weights or from scratch), resumable, DDP-ready."""
    from lowlight_cli.training.run_config import load_config
    from lowlight_cli.training.trainer import CONFIG
    from lowlight_cli.training.trainer import train as run

    explicit = [f"{k}={v}" for k, v in (("data", data), ("out", out), ("init", init)) if v is not None]
    if resume is not None:
        if config or overrides or explicit or overwrite:
            raise LowlightError("--resume continues with the run's saved config; drop the other options")
        cfg = load_config(resume / CONFIG, (f"out={resume}",))
    else:
        cfg = load_config(config, (*(overrides or ()), *explicit))
    with contextlib.ExitStack() as shown:
        bars: list[tuple[Any, Any]] = []  # the bar opens at the first step, once the run's checks have passed

        def progress(step: int, total: int, status: str) -> None:
            if not bars:
                bar = shown.enter_context(progress_bar("{task.fields[status]}", quiet=quiet, rate="steps/s"))
                bars.append((bar, bar.add_task("train", total=total, completed=step, status=status)))
            bar, task = bars[0]
            bar.update(task, completed=step, total=total, status=status)

        metrics = run(cfg, resume=resume is not None, progress=progress, overwrite=overwrite)
    if metrics is None:
        return  # not rank 0 of a torchrun job: rank 0 reports
    scores = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "no validation"
    console.print(
        f"trained {cfg.total_steps} steps: {scores}; weights in {escape(str(Path(cfg.out) / 'model'))}"
    )
