"""`lowlight export`: the model as ONNX graphs for `--backend onnx`.

Examples:
    lowlight export --weights runs/mine --fp16       # -> runs/mine/onnx/ (fp32 and fp16 graphs)
    lowlight export --weights official --out official-onnx/    # bundled weights are read-only: --out
    lowlight export --weights hf://me/agllnet@v1/model.safetensors --out agllnet-onnx/
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lowlight_cli.cli.console import console, escape, user_errors
from lowlight_cli.cli.options import WeightsOpt
from lowlight_cli.weights.files import DEFAULT_OPSET, MIN_OPSET
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS

if TYPE_CHECKING:  # torch loads when the command runs, not for --help
    from lowlight_cli.weights.onnx_export import ExportReport


@user_errors
def export(
    weights: WeightsOpt = DEFAULT_WEIGHTS,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder. Default: the weights folder's onnx/."),
    ] = None,
    opset: Annotated[int, typer.Option(min=MIN_OPSET, help="ONNX opset.")] = DEFAULT_OPSET,
    fp16: Annotated[
        bool, typer.Option("--fp16", help="Also write fp16 graphs (float32 I/O) for --half on CUDA.")
    ] = False,
    image: Annotated[Path | None, typer.Option(help="A real photo for the comparison with PyTorch.")] = None,
) -> None:
    """Export attention + local graphs (dynamic batch, height, width), check them, compare with PyTorch."""
    from lowlight_cli.weights.onnx_export import GraphMismatch, export_weights

    try:
        report = export_weights(weights, out, opset, fp16, image)
    except GraphMismatch as exc:
        _show(exc.report)
        raise
    _show(report)


def _show(report: ExportReport) -> None:
    for c in report.comparisons:
        if c.diffs is None:
            console.print(f"[yellow]{c.precision}: not compared on this machine ({c.skipped})[/]")
        else:
            diffs = ", ".join(f"{k} {v:.2e}" for k, v in c.diffs.items())
            console.print(f"{c.precision} max |torch - onnxruntime|: {diffs}")
    console.print(f"wrote {escape(str(report.out))} (onnx.checker: ok, opset {report.opset})")
