"""`lowlight eval`: compare weights and classical baselines on photos, paired or not: look metrics for every
image (exposure, clipping, colour shift, chroma, contrast, noise, black level and its change, NIQE), PSNR/SSIM
and GT-mean PSNR/SSIM where there is a target, and a contact sheet.

Examples:
    lowlight eval --data lol/ --weights official --baseline gamma --baseline clahe --baseline lime
    lowlight eval --data night/ -w official -w agllnet-look-5 --baseline gamma -o reports/night
    lowlight eval --data kodak/ --self-target -w agllnet-look-5 -o reports/do-no-harm   # well-exposed photos
    lowlight eval --data lowlight-synth --weights official --weights runs/noise/model -o reports/synth
    lowlight eval --data lol/ --weights official --backend onnx       # needs `lowlight export` first
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lowlight_cli.cli.console import console, escape, progress_bar, user_errors
from lowlight_cli.cli.options import (
    OUT,
    BackendOpt,
    Device,
    DeviceOpt,
    GateOpt,
    PrecisionOpt,
    QuietOpt,
    TileOpt,
)
from lowlight_cli.inference import DEFAULT_BACKEND


@user_errors
def eval_(
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="Folder with low/ + high/ (LOL layout), a synth folder, or any folder or glob of photos.",
        ),
    ],
    weights: Annotated[
        list[str] | None, typer.Option("--weights", "-w", help="Weights to evaluate (repeat for several).")
    ] = None,
    baselines: Annotated[
        list[str] | None,
        typer.Option("--baseline", help="Classical baseline: gamma, clahe or lime (repeatable)."),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help=(
                "Synth: train/test (default test). LOL layout: train/test (held-out rule of training) "
                "or all (default)."
            ),
        ),
    ] = None,
    self_target: Annotated[
        bool,
        typer.Option(
            "--self-target",
            help="Photos folder: each photo is its own target (do-no-harm: PSNR/SSIM against the input).",
        ),
    ] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N images.")] = None,
    out: Annotated[
        Path, typer.Option(*OUT, help="Folder for per_image.csv, summary.csv, summary.md, sheet.png.")
    ] = Path("eval"),
    sheet: Annotated[
        bool,
        typer.Option(
            "--sheet/--no-sheet",
            help="Write the contact sheet sheet.png (input | each method, a row per image).",
        ),
    ] = True,
    sheet_height: Annotated[
        int, typer.Option(min=32, max=1024, help="Height in px of each contact-sheet cell.")
    ] = 160,
    max_side: Annotated[
        int | None,
        typer.Option(
            min=64, help="Scale larger images down to this longer side first (faster; targets too)."
        ),
    ] = None,
    backend: BackendOpt = DEFAULT_BACKEND,
    device: DeviceOpt = Device.auto,
    precision: PrecisionOpt = None,
    tile: TileOpt = None,
    gate: GateOpt = True,
    quiet: QuietOpt = False,
) -> None:
    """Look metrics (black level, NIQE among them), PSNR/SSIM and GT-mean PSNR/SSIM where there are targets,
    and time, per image and on average; a contact sheet."""
    from lowlight_cli.evaluation.evaluate import evaluate, plan, report_text, summarize, write_reports

    run = plan(  # -o writable, the samples and the methods, before any image is read
        data,
        out,
        weights or (),
        baselines or (),
        split=split,
        self_target=self_target,
        limit=limit,
        backend=backend,
        device=device.value,
        precision=precision,
        tile=tile,
        gate=gate,
    )
    sheet_rows: list | None = [] if sheet else None
    with progress_bar(quiet=quiet) as bar:
        task = bar.add_task("eval", total=len(run.samples) * len(run.methods))
        rows = evaluate(
            run.samples,
            run.methods,
            on_image=lambda: bar.advance(task),
            sheet_rows=sheet_rows,
            sheet_height=sheet_height,
            max_side=max_side,
        )
    summary = summarize(rows)
    write_reports(rows, summary, out, sheet_rows, tuple(run.methods))
    console.print(report_text(summary, rows), markup=False)
    console.print(f"reports in {escape(str(out))}")
