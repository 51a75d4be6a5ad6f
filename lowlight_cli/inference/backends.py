"""Execution backends. Each runs the two stages on NCHW float32 numpy arrays, so tiling is shared."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Protocol

import numpy as np

from lowlight_cli.errors import DeviceError
from lowlight_cli.models.config import AgLLNetConfig, LiteConfig

if TYPE_CHECKING:  # torch loads on first use: the photo-only install has none
    import torch

    from lowlight_cli.models.build import Network


class Backend(Protocol):
    @property
    def config(self) -> AgLLNetConfig | LiteConfig:
        """The weights' architecture, and the attention gate the Enhancer applies (`whole_image_gate`)."""

    description: str
    device_type: str
    """"cpu" or "cuda": selects the tile memory budget."""
    attention_multiple: int
    local_multiple: int
    local_radius: int

    def attention(self, image: np.ndarray) -> np.ndarray:
        """(N,3,H,W) in [0,1] -> (N,1,H,W); H, W multiples of `attention_multiple`."""

    def local(self, image: np.ndarray, attention: np.ndarray) -> np.ndarray:
        """(N,3,h,w) image and (N,1,h,w) attention -> (N,3,h,w) the network's image, unclipped and before the
        attention gate (which needs the whole image's map: `inference.whole_image_gate`)."""


def resolve_torch_device(device: str) -> torch.device:
    """`auto` picks CUDA when usable; an explicit `cuda` that is not usable fails loudly."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError(
            f"device {device}: CUDA is not usable here (torch {torch.__version__}, "
            f"cuda build: {torch.version.cuda or 'none'}); use device cpu or auto",
            param="device",
        )
    try:
        return torch.device(device)
    except RuntimeError as exc:
        raise DeviceError(f"device {device}: {exc}", param="device") from None


class TorchBackend:
    """PyTorch execution with optional fp16 on CUDA; a non-finite fp16 result is recomputed in fp32.

    `precision`: fp32, fp16 or auto (`lowlight_cli.inference.precision`); `half=True` means fp16.
    """

    def __init__(
        self,
        model: Network,
        device: str = "auto",
        half: bool = False,
        precision: str | None = None,
    ) -> None:
        import torch

        from lowlight_cli.inference.precision import resolve_precision

        self.device = resolve_torch_device(device)
        self.precision = resolve_precision(
            precision or ("fp16" if half else "fp32"), "torch", self.device.type
        )
        half = self.precision == "fp16"
        self.device_type = self.device.type
        self.dtype = torch.float16 if half else torch.float32
        # torch's stub of Module.to lacks the memory_format keyword that Module.to takes
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.model_fp32 = self.model
        if half:
            import copy

            self.model = copy.deepcopy(self.model_fp32).half()
        cfg = self.config = model.config
        self.attention_multiple = cfg.attention_multiple
        self.local_multiple = cfg.local_multiple
        self.local_radius = cfg.local_radius
        precision = "float16 (NaN guard: fp32 fallback)" if half else "float32"
        self.description = f"torch, {self.device}, {precision}"
        self.fp32_fallbacks = 0

    def _run(self, fn, *arrays: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            tensors = [torch.from_numpy(a).to(self.device, memory_format=torch.channels_last) for a in arrays]
            out = fn(self.model, *(t.to(self.dtype) for t in tensors)).float()
            if self.dtype != torch.float32 and not torch.isfinite(out).all():
                self.fp32_fallbacks += 1
                if self.fp32_fallbacks == 1:
                    warnings.warn("fp16 produced NaN/inf; recomputing affected tiles in fp32", stacklevel=3)
                out = fn(self.model_fp32, *tensors).float()
            return out.cpu().numpy()

    def attention(self, image: np.ndarray) -> np.ndarray:
        return self._run(lambda m, x: m.attention(x), image)

    def local(self, image: np.ndarray, attention: np.ndarray) -> np.ndarray:
        return self._run(lambda m, x, a: m.local(x, a).reinforced, image, attention)
