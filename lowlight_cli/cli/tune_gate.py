"""`lowlight tune-gate`: choose the attention gate of a set of weights on validation photos and pairs.

Examples:
    lowlight tune-gate -w runs/look/best --photos data/look/photos/val --pairs data/look/synth-val
    lowlight tune-gate -w agllnet-look-5 --photos val-photos/ --pairs lowlight-synth -o retuned.csv
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lowlight_cli.cli.console import console, escape, progress_bar, user_errors
from lowlight_cli.cli.options import OUT, BackendOpt, Device, DeviceOpt, QuietOpt, WeightsOpt
from lowlight_cli.inference import DEFAULT_BACKEND
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS


@user_errors
def tune_gate(
    photos: Annotated[
        Path,
        typer.Option(
            "--photos", help="Well-exposed validation photos (a folder or glob), each its own target."
        ),
    ],
    pairs: Annotated[
        Path,
        typer.Option(
            "--pairs", help="Validation pairs: a synth folder (its test split by default) or low/ + high/."
        ),
    ],
    weights: WeightsOpt = DEFAULT_WEIGHTS,
    split: Annotated[
        str | None, typer.Option("--split", help="Split of --pairs, as `lowlight eval --split` reads it.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N images of each.")
    ] = None,
    out: Annotated[Path, typer.Option(*OUT, help="CSV file: mean PSNR per gate, blur and set.")] = Path(
        "gate-tuning.csv"
    ),
    backend: BackendOpt = DEFAULT_BACKEND,
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
) -> None:
    """Measure every candidate attention gate (thresholds and map blur) on well-exposed photos and validation
    pairs, and pick the one the rule chooses (docs/training.md#attention-gate)."""
    from lowlight_cli.evaluation.gate_tuning import DARK, DO_NO_HARM_DB, PAIRS, PHOTOS, tune_gate

    with progress_bar(quiet=quiet) as bar:
        task = bar.add_task("images", total=None)
        tuning = tune_gate(
            weights,
            photos,
            pairs,
            split,
            device=device.value,
            backend=backend,
            limit=limit,
            out=out,
            on_image=lambda _set, _name: bar.advance(task),
        )
    if tuning.set_aside is not None:
        console.print(f"[dim]{escape(weights)}: its gate {tuning.set_aside} was set aside[/]")

    def scores(row) -> str:
        dark = f", {DARK} {row.psnr[DARK]:.2f}" if DARK in row.psnr else ""
        return f"{PHOTOS} {row.psnr[PHOTOS]:.2f}, {PAIRS} {row.psnr[PAIRS]:.2f}{dark} dB"

    console.print(", ".join(f"{n} {name}" for name, n in tuning.images.items()) + " images")
    console.print(f"no gate: {scores(tuning.rows[0])}")
    for blur, best in tuning.best_by_blur.items():
        console.print(
            f"blur {blur:g}: " + (f"gate {best.label}: {scores(best)}" if best else "no gate meets the rule")
        )
    chosen = tuning.chosen
    if chosen is None:
        console.print(
            f"chosen: none (no gate keeps {PHOTOS} at {DO_NO_HARM_DB:g} dB without a cost on the dark pairs)"
        )
    else:
        console.print(
            f"[bold]chosen:[/] attention_gate {chosen.gate}, attention_gate_blur {chosen.blur:g} "
            f"({scores(chosen)})"
        )
    console.print(f"wrote {escape(str(out))}")
