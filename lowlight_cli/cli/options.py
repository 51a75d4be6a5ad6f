"""Option aliases shared by several commands, defined once."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class BackendName(str, Enum):
    auto = "auto"
    torch = "torch"
    onnx = "onnx"
    onnx_tensorrt = "onnx-tensorrt"


WeightsOpt = Annotated[
    str, typer.Option("--weights", "-w", help="Bundled name, weights folder, .safetensors file or hf://owner/repo\\[@rev]/file.")
]
DeviceOpt = Annotated[Device, typer.Option("--device", help="auto picks CUDA when usable; cuda fails if it is not.")]
HalfOpt = Annotated[bool, typer.Option("--half", help="fp16 on CUDA (NaN/inf guard falls back to fp32).")]
TileOpt = Annotated[
    Optional[int],
    typer.Option("--tile", min=0, help="Tile core size in px for the local stages; default: from the memory budget; 0: never tile."),
]
BackendOpt = Annotated[
    BackendName, typer.Option("--backend", help="auto (onnx where it has graphs and cannot lose the GPU, else torch), torch, onnx (onnxruntime), or onnx-tensorrt (TensorRT first).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and the final summary.")]
