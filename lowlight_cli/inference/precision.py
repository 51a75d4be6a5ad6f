"""Numeric precision of inference (`--precision fp32|fp16|auto`): what each needs, and what `auto` picks.

- fp32: everywhere.
- fp16: CUDA only (torch, or the fp16 ONNX graphs), with a NaN/inf guard that recomputes in fp32.
- auto: fp16 on CUDA (where the weights have fp16 graphs, for onnx); fp32 on a CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from lowlight_cli.errors import DeviceError
from lowlight_cli.weights.files import GRAPH_PRECISIONS, GraphPrecision

PrecisionName = Literal[GraphPrecision, "auto"]
"""What `--precision` and `Enhancer(precision=...)` take: a precision of the network, or `auto`."""
PRECISIONS: tuple[str, ...] = get_args(PrecisionName)
DEFAULT_PRECISION: GraphPrecision = "fp32"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    return {
        f
        for line in text.splitlines()
        if line.startswith(("flags", "Features"))
        for f in line.split(":", 1)[1].split()
    }


def resolve_precision(requested: str, backend: str, device_type: str, graphs: Any | None = None) -> str:
    """The concrete precision for `requested` on `backend` ("torch" or "onnx"/"onnx-tensorrt") and
    `device_type` ("cpu"/"cuda"); `graphs` is the backend's `OnnxGraphs` (None for torch).

    Raises a one-line DeviceError when the combination cannot run.
    """
    if requested not in PRECISIONS:
        raise DeviceError(
            f"precision {requested}: unknown (choose from {', '.join(PRECISIONS)})", param="precision"
        )
    available = set(graphs.graphs) if graphs is not None else set(GRAPH_PRECISIONS)
    if requested == "auto":
        return "fp16" if device_type == "cuda" and "fp16" in available else "fp32"
    if requested == "fp16":
        if device_type != "cuda":
            raise DeviceError(
                "precision fp16 (half) needs a CUDA device (the CPU has no fast fp16 convolutions)",
                param="precision",
            )
        if graphs is not None and "fp16" not in available:
            raise DeviceError(
                f"precision fp16: {graphs.folder} has no fp16 graphs; "
                "re-export with `lowlight export --fp16`",
                param="precision",
            )
    return requested
