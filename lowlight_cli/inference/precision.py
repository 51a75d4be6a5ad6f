"""Numeric precision of inference (`--precision fp32|fp16|int8|auto`): what each needs, and what `auto` picks.

- fp32: everywhere.
- fp16: CUDA only (torch, or the fp16 ONNX graphs), with a NaN/inf guard that recomputes in fp32.
- int8: the QDQ int8 ONNX graphs (`lowlight_cli.weights.onnx_quantize`) on onnxruntime's CPU provider.
- auto: fp16 on CUDA; on a CPU, int8 only where the weights' int8 graphs passed the accuracy gate recorded in
  their manifest (`INT8_GATE`) and the CPU has int8 dot-product instructions (VNNI/AMX), without which
  onnxruntime's int8 convolutions are no faster than fp32 (docs/performance.md); else fp32.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lowlight_cli.errors import DeviceError

PRECISIONS = ("fp32", "fp16", "int8", "auto")
DEFAULT_PRECISION = "fp32"
INT8_GATE = {"min_psnr_vs_fp32_db": 40.0, "max_metric_loss_db": 0.1}
"""`auto` takes int8 only when, on every test set, the int8 output is at least 40 dB PSNR from the fp32 output
and no look/quality metric (PSNR to the reference, in dB) is worse than fp32's by more than 0.1 dB."""
INT8_CPU_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    return {f for line in text.splitlines() if line.startswith(("flags", "Features")) for f in line.split(":", 1)[1].split()}


def cpu_has_int8_dot(flags: set[str] | None = None) -> bool:
    """True where the CPU has VNNI or AMX int8 dot products (x86 only; ARM dot-product support is not detected)."""
    return bool((cpu_flags() if flags is None else flags) & set(INT8_CPU_FLAGS))


def gate_passed(gate: dict[str, Any] | None) -> bool:
    """Whether a manifest's recorded int8 gate measurement meets `INT8_GATE` (missing = not passed)."""
    if not gate:
        return False
    try:
        return (
            float(gate["min_psnr_vs_fp32_db"]) >= INT8_GATE["min_psnr_vs_fp32_db"]
            and float(gate["max_metric_loss_db"]) <= INT8_GATE["max_metric_loss_db"]
        )
    except (KeyError, TypeError, ValueError):
        return False


def resolve_precision(
    requested: str, backend: str, device_type: str, graphs: Any | None = None, flags: set[str] | None = None
) -> str:
    """The concrete precision for `requested` on `backend` ("torch" or "onnx"/"onnx-tensorrt") and
    `device_type` ("cpu"/"cuda"); `graphs` is the backend's `OnnxGraphs` (None for torch).

    Raises a one-line DeviceError when the combination cannot run.
    """
    if requested not in PRECISIONS:
        raise DeviceError(f"--precision {requested}: unknown (choose from {', '.join(PRECISIONS)})")
    available = set(graphs.graphs) if graphs is not None else {"fp32", "fp16"}
    if requested == "auto":
        if device_type == "cuda":
            return "fp16" if "fp16" in available else "fp32"
        if graphs is not None and "int8" in available and gate_passed(graphs.gates.get("int8")) and cpu_has_int8_dot(flags):
            return "int8"
        return "fp32"
    if requested == "fp16":
        if device_type != "cuda":
            raise DeviceError("--precision fp16 (--half) needs a CUDA device (the CPU has no fast fp16 convolutions)")
        if "fp16" not in available:
            raise DeviceError(f"--precision fp16: {graphs.folder} has no fp16 graphs; re-export with `lowlight export --fp16`")
    if requested == "int8":
        if graphs is None:
            raise DeviceError("--precision int8 runs on the ONNX graphs; use --backend onnx (or auto)")
        if device_type != "cpu":
            raise DeviceError("--precision int8 runs on onnxruntime's CPU provider; use --device cpu")
        if "int8" not in available:
            raise DeviceError(
                f"--precision int8: {graphs.folder} has no int8 graphs; build them with scripts/quantize_int8.py"
            )
    return requested
