"""lowlight: attention-guided low-light enhancement (AgLLNet) for photos and video.

The public Python API is importable without the CLI::

    from lowlight_cli import Enhancer
    enhancer = Enhancer("official")            # bundled weights, best device
    result = enhancer.enhance(rgb_float_array)  # HxWx3 float32 in [0, 1]

Heavy modules (torch, onnxruntime) load on first use so that ``import lowlight_cli`` and
``lowlight --version`` stay instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Enhancer": "lowlight_cli.inference.enhancer",
    "EnhanceResult": "lowlight_cli.inference.enhancer",
    "AgLLNet": "lowlight_cli.models.agllnet",
    "AgLLNetConfig": "lowlight_cli.models.config",
    "AgLLNetLite": "lowlight_cli.models.lite",
    "LiteConfig": "lowlight_cli.models.config",
    "load_model": "lowlight_cli.weights.model_io",
    "save_model": "lowlight_cli.weights.model_io",
    "read_image": "lowlight_cli.io.images",
    "write_image": "lowlight_cli.io.images",
}

# Written out (not `[*_LAZY]`) so linters and type checkers see the re-exports; tests/test_layers.py checks
# that it matches `_LAZY`.
__all__ = [
    "__version__",
    "Enhancer",
    "EnhanceResult",
    "AgLLNet",
    "AgLLNetConfig",
    "AgLLNetLite",
    "LiteConfig",
    "load_model",
    "save_model",
    "read_image",
    "write_image",
]

if TYPE_CHECKING:
    from lowlight_cli.inference.enhancer import Enhancer, EnhanceResult
    from lowlight_cli.io.images import read_image, write_image
    from lowlight_cli.models.agllnet import AgLLNet
    from lowlight_cli.models.config import AgLLNetConfig, LiteConfig
    from lowlight_cli.models.lite import AgLLNetLite
    from lowlight_cli.weights.model_io import load_model, save_model


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lowlight_cli' has no attribute {name!r}")
