"""Which optional extra each job needs, and the one-line error that names it when it is missing.

The core install (`pip install "lowlight[cpu]"`) enhances photos with onnxruntime and never imports torch.
Every other job lives in an extra of pyproject.toml; each command checks its extras before it starts, so a
missing one is one line naming what to install, never a ModuleNotFoundError traceback.
"""

from __future__ import annotations

import importlib.util

from lowlight_cli.errors import LowlightError

EXTRAS: dict[str, tuple[str, ...]] = {
    "torch": ("torch", "safetensors"),
    "video": ("av",),
    "export": ("torch", "safetensors", "onnx"),
    "synth": ("skimage", "matplotlib"),
    "train": ("torch", "safetensors", "torchmetrics", "tensorboard", "matplotlib", "yaml", "skimage", "pydantic"),
    "eval": ("torch", "safetensors", "torchmetrics"),
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


def require(what: str, *extras: str) -> None:
    """Raise MissingExtraError naming the first of `extras` that is not fully installed."""
    for extra in extras:
        gone = missing(extra)
        if gone:
            label = "onnxruntime" if extra == "onnxruntime" else f"the [{extra}] extra"
            raise MissingExtraError(f"{what} needs {label} ({', '.join(gone)} not installed): {install_hint(extra)}")


def require_backend(name: str, requested: str, weights: str) -> None:
    """Check that inference backend `name` (resolved from `requested`, maybe `auto`) can run here."""
    if name in ("onnx", "onnx-tensorrt"):
        require(f"--backend {name}", "onnxruntime")
    elif name == "torch" and missing("torch"):
        if requested != "auto":
            require("--backend torch", "torch")
        if missing("onnxruntime"):
            raise MissingExtraError(
                "no inference backend is installed: pip install 'lowlight[cpu]' for onnxruntime "
                "(or 'lowlight[gpu]' on a CUDA machine), or 'lowlight[torch]' for PyTorch"
            )
        raise MissingExtraError(
            f"weights {weights!r} run on PyTorch here (no ONNX graphs to use, or only PyTorch could use the GPU): "
            f"{install_hint('torch')}, or try --backend onnx"
        )
