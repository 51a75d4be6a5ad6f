"""Which optional extra each job needs, and the one-line error that names it when it is missing.

The core install (`pip install "lowlight[cpu]"`) enhances photos with onnxruntime and never imports torch.
Every other job lives in an extra of pyproject.toml; each command checks its extras before it starts, so a
missing one is one line naming what to install, never a ModuleNotFoundError traceback.
"""

from __future__ import annotations

import importlib.util

from lowlight_cli.errors import LowlightError
from lowlight_cli.inference import ONNX_BACKENDS

EXTRAS: dict[str, tuple[str, ...]] = {
    "torch": ("torch", "safetensors"),
    "video": ("av",),
    "export": ("torch", "safetensors", "onnx"),
    "synth": ("skimage", "matplotlib"),
    "train": (
        "torch",
        "safetensors",
        "torchmetrics",
        "tensorboard",
        "matplotlib",
        "yaml",
        "skimage",
        "pydantic",
    ),
    "eval": ("torch", "safetensors", "torchmetrics", "scipy"),
    "serve": ("fastapi", "uvicorn", "multipart"),
    "ray": ("ray",),
    "onnxruntime": ("onnxruntime",),
}
"""Extra -> the top-level modules it installs (mirrors [project.optional-dependencies]). `onnxruntime`
stands for the `cpu` or `gpu` extra: the two install the same module, in different builds."""

TORCH_NOTE = "install the torch build for your machine first, see the README"


class MissingExtraError(LowlightError):
    """A job whose optional dependencies are not installed."""


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-imported package
        return False


def missing(extra: str) -> list[str]:
    """The modules of `extra` that are not importable here."""
    return [m for m in EXTRAS[extra] if not installed(m)]


def install_hint(extra: str) -> str:
    """The pip command for one extra (or the onnxruntime flavours), as printed in the one-line errors."""
    if extra == "onnxruntime":
        return "pip install 'lowlight[cpu]' (or 'lowlight[gpu]' on a CUDA machine)"
    hint = f"pip install 'lowlight[{extra}]'"
    return f"{hint} ({TORCH_NOTE})" if "torch" in EXTRAS[extra] else hint


def require(what: str, *extras: str, param: str | None = None) -> None:
    """Raise MissingExtraError naming the first of `extras` that is not fully installed; `what` needs them,
    and `param` is the parameter whose value it is (`what` then starts with its name: "backend onnx")."""
    for extra in extras:
        gone = missing(extra)
        if gone:
            label = "onnxruntime" if extra == "onnxruntime" else f"the [{extra}] extra"
            raise MissingExtraError(
                f"{what} needs {label} ({', '.join(gone)} not installed): {install_hint(extra)}", param=param
            )


NVIDIA_DRIVER = "/proc/driver/nvidia/version"
"""Present where an NVIDIA driver is loaded (what the auto backend reads to tell a GPU machine)."""


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
    from pathlib import Path

    from lowlight_cli.errors import DeviceError
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
