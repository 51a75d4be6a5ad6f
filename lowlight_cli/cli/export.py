"""`lowlight export`: the model as ONNX graphs for `--backend onnx`.

Examples:
    lowlight export --weights runs/mine --fp16       # -> runs/mine/onnx/ (fp32 and fp16 graphs)
    lowlight export --weights official --out official-onnx/    # bundled weights are read-only: --out
    lowlight export --weights hf://me/agllnet@v1/model.safetensors --out agllnet-onnx/
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from lowlight_cli.cli.console import console, escape, user_errors
from lowlight_cli.cli.options import WeightsOpt
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS

TOLERANCE = {"fp32": 1e-4, "fp16": 5e-2}
"""Max |torch fp32 - onnxruntime| accepted by the export check, per graph precision."""


@user_errors
def export(
    weights: WeightsOpt = DEFAULT_WEIGHTS,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder. Default: the weights folder's onnx/."),
    ] = None,
    opset: Annotated[int, typer.Option(min=11, help="ONNX opset.")] = 17,
    fp16: Annotated[
        bool, typer.Option("--fp16", help="Also write fp16 graphs (float32 I/O) for --half on CUDA.")
    ] = False,
    image: Annotated[Path | None, typer.Option(help="A real photo for the comparison with PyTorch.")] = None,
) -> None:
    """Export attention + local graphs (dynamic batch, height, width), check them, compare with PyTorch."""
    from lowlight_cli.errors import LowlightError
    from lowlight_cli.io.images import read_image
    from lowlight_cli.weights.onnx_export import compare_stages, export_onnx
    from lowlight_cli.weights.registry import (
        ONNX_DIR,
        WRITE_BUNDLED_ENV,
        check_not_bundled,
        resolve,
        sha256_of,
    )
    from lowlight_cli.weights.store import load_checkpoint

    found = resolve(weights)
    if out is None:
        if found.source.startswith("hf://"):
            raise LowlightError("--out is needed for hf:// weights (the Hub cache is read-only)")
        if found.source.startswith("bundled:") and os.environ.get(WRITE_BUNDLED_ENV) != "1":
            raise LowlightError(
                f"--out is needed for bundled weights (they are read-only, and {weights!r} already "
                f"ships its ONNX graphs): e.g. --out {weights}-onnx"
            )
        out = found.weights_file.parent / ONNX_DIR
    check_not_bundled(out)
    model = load_checkpoint(found.weights_file, found.config_file, found.sha256)
    export_onnx(model, out, opset=opset, fp16=fp16, source_sha256=sha256_of(found.weights_file))
    rgb = read_image(image)[0] if image else None
    failed = False
    for precision in ("fp32", "fp16") if fp16 else ("fp32",):
        try:
            diffs = compare_stages(model, out, rgb, precision)
        except Exception as exc:  # onnxruntime's CPU provider has no fp16 convolutions on most CPUs
            console.print(f"[yellow]{precision}: not compared on this machine ({exc.__class__.__name__})[/]")
            continue
        worst = max(diffs.values())
        failed |= worst > TOLERANCE[precision]
        console.print(
            f"{precision} max |torch - onnxruntime|: " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items())
        )
    console.print(f"wrote {escape(str(out))} (onnx.checker: ok, opset {opset})")
    if failed:
        raise LowlightError(f"the exported graphs differ from PyTorch by more than {TOLERANCE}")
