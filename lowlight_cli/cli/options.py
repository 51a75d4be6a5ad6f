"""Option aliases shared by several commands, defined once.

The inference options have the same names on `enhance`, `video`, `serve` and `eval`
(docs/usage.md#shared-options): `--weights/-w`, `--device`, `--backend`, `--precision`, `--tile`,
`--gate/--no-gate`, `--fast` (not on eval), and `--out/-o` (alias `--output`) for where results go (not on
serve, which returns them). The backend and precision names are the inference layer's
(`inference.BackendChoice`, `inference.precision.PrecisionName`).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from lowlight_cli.inference import BackendChoice
from lowlight_cli.inference.guided_upsampling import FAST_SIDE
from lowlight_cli.inference.precision import PrecisionName


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


OUT = ("--out", "--output", "-o")
"""The names of the output option, the same on every command that writes results (`--output` is an alias)."""
OutDirOpt = Annotated[
    Path | None, typer.Option(*OUT, help="Output folder (sub-folders kept). Default: beside each input.")
]
WORKERS_ZERO = "0 = in this process"
"""What `--workers 0` means wherever a command takes `--workers`: no separate workers (synth); serve, whose
photos always run on worker threads so that it keeps answering, refuses it."""

WeightsOpt = Annotated[
    str,
    typer.Option(
        "--weights",
        "-w",
        help="Bundled name, weights folder, .safetensors file or hf://owner/repo\\[@rev]/file.",
    ),
]
DeviceOpt = Annotated[
    Device, typer.Option("--device", help="auto picks CUDA when usable; cuda fails if it is not.")
]
HalfOpt = Annotated[bool, typer.Option("--half", help="Same as --precision fp16 (kept for old scripts).")]


PrecisionOpt = Annotated[
    PrecisionName | None,
    typer.Option(
        "--precision", help="fp32 (default), fp16 (CUDA, NaN guard), or auto (fp16 on CUDA, fp32 on a CPU)."
    ),
]
FastOpt = Annotated[
    bool,
    typer.Option(
        "--fast",
        help=(
            f"Fast mode for previews and video on a CPU: the network sees a {FAST_SIDE} px copy and a "
            "guided filter carries its result to full size."
        ),
    ),
]
TileOpt = Annotated[
    int | None,
    typer.Option(
        "--tile",
        min=0,
        help="Tile core size in px for the local stages; default: from the memory budget; 0: never tile.",
    ),
]
BackendOpt = Annotated[
    BackendChoice,
    typer.Option(
        "--backend",
        help=(
            "auto (onnx where it has graphs and cannot lose the GPU, else torch), torch, onnx "
            "(onnxruntime), or onnx-tensorrt (TensorRT first)."
        ),
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and the final summary.")]

# user controls (lowlight_cli.inference.controls), shared by enhance and video
StrengthOpt = Annotated[
    float,
    typer.Option(
        "--strength",
        min=0.0,
        max=1.0,
        help="How far to move from the input: 0 returns it unchanged, 1 is the full result.",
    ),
]
DenoiseOpt = Annotated[
    float,
    typer.Option(
        "--denoise",
        min=0.0,
        max=1.0,
        help=(
            "How much of the network's noise removal to keep: 1 (default) all of it, 0 brightness and "
            "colour only (the photo's own grain, brightened)."
        ),
    ),
]
ExposureOpt = Annotated[
    str | None,
    typer.Option(
        "--exposure",
        help=(
            "Brightness of the result: auto (mean luma into 0.35-0.55), a target mean luma such as "
            "0.45, or an EV offset such as +0.5ev. Default: as the model gives it."
        ),
    ),
]
KeepColourOpt = Annotated[
    bool,
    typer.Option(
        "--keep-colour",
        help="Keep the input's colours (CIELAB a*, b*); take only the model's brightness and detail.",
    ),
]
GateOpt = Annotated[
    bool,
    typer.Option(
        "--gate/--no-gate",
        help=(
            "Weights with an attention gate (the default ones) leave well-exposed photos and parts as "
            "they are; --no-gate applies the network everywhere."
        ),
    ),
]
