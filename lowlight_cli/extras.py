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
