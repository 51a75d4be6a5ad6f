"""Which inference backend runs a set of weights: the `auto` choice, and the check that the chosen one can
run here (its extra installed), with the reason in one line when it cannot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lowlight_cli.errors import DeviceError, LowlightError, WeightsError
from lowlight_cli.extras import MissingExtraError, install_hint, missing, require
from lowlight_cli.inference import ONNX_BACKENDS

NVIDIA_DRIVER = "/proc/driver/nvidia/version"
"""Present where an NVIDIA driver is loaded (what the auto backend reads to tell a GPU machine)."""


def auto_backend(weights: str, device: str) -> str:
    """`onnx` where it is the faster choice and cannot silently lose the GPU, else `torch`.

    onnxruntime is 1.2-1.7x faster than PyTorch on a CPU and starts 3 s sooner (docs/performance.md), so it
    is used when it is installed and the weights have exported graphs on disk (bundled, or a local folder
    with `onnx/`; Hub references stay on torch rather than fetching graphs). It is not used when it lacks
    the CUDA provider on a machine with an NVIDIA driver (or with `--device cuda`), where it would run on
    the CPU while PyTorch could use the GPU.
    """
    from lowlight_cli.weights.hub import PREFIX
    from lowlight_cli.weights.registry import resolve_onnx

    if str(weights).startswith(PREFIX) or importlib.util.find_spec("onnxruntime") is None:
        return "torch"
    try:
        resolve_onnx(weights)
    except WeightsError:
        return "torch"
    import onnxruntime

    gpu_here = device.startswith("cuda") or (device == "auto" and Path(NVIDIA_DRIVER).exists())
    if gpu_here and "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        return "torch"
    return "onnx"


def require_backend(name: str, requested: str, weights: str, device: str | None = None) -> None:
    """Check that inference backend `name` (resolved from `requested`, maybe `auto`) can run here.

    When `auto` chose PyTorch and torch is not installed, the error names why onnxruntime could not be used
    instead (unknown weights, an unreachable Hub, damaged graphs, a GPU that onnxruntime lacks); only weights
    that really have no ONNX graphs point to the [torch] extra. `device` is the one asked for, when known.
    """
    if name in ONNX_BACKENDS:
        require(f"backend {name}", "onnxruntime", param="backend")
    elif name == "torch" and missing("torch"):
        if requested != "auto":
            require("backend torch", "torch", param="backend")
        if missing("onnxruntime"):
            raise MissingExtraError(
                "no inference backend is installed: pip install 'lowlight[cpu]' for onnxruntime "
                "(or 'lowlight[gpu]' on a CUDA machine), or 'lowlight[torch]' for PyTorch"
            )
        raise why_not_onnx(str(weights), device)


def why_not_onnx(weights: str, device: str | None = None) -> LowlightError:
    """Why the auto backend could not run `weights` on onnxruntime (it then needs torch, missing here).

    The auto backend leaves onnxruntime for one of four reasons, checked here in turn: the weights do not
    resolve (a typo, a missing folder, an unreachable Hub), their graphs are missing or damaged, they are on
    the Hub (graphs are fetched only with --backend onnx), or onnxruntime lacks the CUDA provider that an
    explicit --device cuda, or this machine's NVIDIA GPU, asks for.
    """
    from lowlight_cli.weights.hub import PREFIX, onnx_manifest
    from lowlight_cli.weights.registry import NoOnnxExport, resolve_onnx

    hub = weights.startswith(PREFIX)
    try:
        if hub:
            onnx_manifest(weights)
        else:
            resolve_onnx(weights)
    except NoOnnxExport:
        where = "beside them on the Hub" if hub else "beside them"
        return MissingExtraError(
            f"weights {weights!r} have no ONNX graphs (no onnx/manifest.json {where}), so they run "
            f"on PyTorch, which is not installed: {install_hint('torch')}"
        )
    except LowlightError as exc:
        return exc
    if hub:
        return MissingExtraError(
            f"weights {weights!r} are on the Hub, where the auto backend uses PyTorch, which is "
            "not installed: choose the onnx backend to run their ONNX graphs, or "
            f"{install_hint('torch')}"
        )
    import onnxruntime

    providers = ", ".join(onnxruntime.get_available_providers())
    asked = device if device and device.startswith("cuda") else None
    if not Path(NVIDIA_DRIVER).exists():
        return DeviceError(
            f"device {asked or 'cuda'}: CUDA is not usable here (no NVIDIA driver loaded; onnxruntime offers "
            f"{providers}); use device cpu or auto",
            param="device",
        )
    where = f"device {asked}" if asked else "this machine's NVIDIA GPU"
    return DeviceError(
        (
            f"{where}: onnxruntime here has no CUDA provider (it offers {providers}) and PyTorch is "
            "not installed: pip install 'lowlight[gpu]' in place of 'lowlight[cpu]', or "
            f"{install_hint('torch')}, or run on the CPU (device cpu)"
        ),
        param="device" if asked else None,
    )
