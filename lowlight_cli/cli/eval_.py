"""`lowlight eval`: compare weights and classical baselines on paired low/normal-light images.

Examples:
    lowlight eval --data lol/ --weights official --baseline gamma --baseline clahe --baseline lime
    lowlight eval --data lowlight-synth --weights official --weights runs/noise/model -o reports/synth
    lowlight eval --data lol/ --weights official --backend onnx       # needs `lowlight export` first
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lowlight_cli.cli.console import console, escape, user_errors
from lowlight_cli.cli.options import BackendOpt, BackendName, Device, DeviceOpt, QuietOpt
from lowlight_cli.inference import DEFAULT_BACKEND


@user_errors
def eval_(
    data: Annotated[Path, typer.Option("--data", help="Folder with low/ + high/ (LOL layout) or a synth folder.")],
    weights: Annotated[
        Optional[list[str]], typer.Option("--weights", "-w", help="Weights to evaluate (repeat for several).")
    ] = None,
    baselines: Annotated[
        Optional[list[str]], typer.Option("--baseline", help="Classical baseline: gamma, clahe or lime (repeatable).")
    ] = None,
    split: Annotated[
        Optional[str], typer.Option("--split", help="Synth: train/test (default test). LOL layout: train/test (held-out rule of training) or all (default).")
    ] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Only the first N pairs.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for per_image.csv, summary.csv, summary.md.")] = Path(
        "eval"
    ),
    backend: BackendOpt = BackendName(DEFAULT_BACKEND),
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
) -> None:
    """PSNR, SSIM (LPIPS where available) and time per image, per image and on average."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from lowlight_cli.evaluation.evaluate import evaluate, find_samples, make_methods, markdown_table, summarize, write_reports

    samples = find_samples(data, split)[:limit]
    methods = make_methods(weights or (), baselines or (), backend.value, device.value)
    columns = (TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=quiet, transient=True) as bar:
        task = bar.add_task("", total=len(samples) * len(methods))
        rows = evaluate(samples, methods, on_image=lambda: bar.advance(task))
    summary = summarize(rows)
    write_reports(rows, summary, out)
    console.print(markdown_table(summary), markup=False)
    console.print(f"reports in {escape(str(out))}")
