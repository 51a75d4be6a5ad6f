"""`Enhancer`: any-size RGB in, enhanced RGB out, with a global attention map and tiled local stages.

The Attention-Net downsamples by 128 and so sees the whole image: it runs once per image (on a downscaled
copy when the image is large; the map is smooth). The local stages then run on overlapping tiles whose
margins exceed their receptive field, so tiling bounds memory without changing the look.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lowlight_cli.inference import BACKEND_CHOICES, DEFAULT_BACKEND, ONNX_BACKENDS
from lowlight_cli.inference.backends import Backend
from lowlight_cli.inference.controls import Controls
from lowlight_cli.inference.guided_upsampling import FAST_SIDE, apply, downscale, fit, small_size
from lowlight_cli.inference.precision import DEFAULT_PRECISION
from lowlight_cli.inference.tiling import Blender, plan_tiles
from lowlight_cli.inference.whole_image_gate import gate_weights
from lowlight_cli.models.config import AgLLNetConfig, LiteConfig
from lowlight_cli.models.gate import blend, blend_into
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS

ATTENTION_MAX_SIDE = 2048
"""Longer side above which the attention map is computed on a downscaled copy."""
TILE_BUDGET_PIXELS = {"cpu": 3_000_000, "cuda": 8_000_000}
"""Largest window (core + margins) one local pass may see, per device type; bounds peak memory."""
BLEND = 16
"""Half-width in pixels of the cross-fade between neighbouring tiles."""
TILE_MARGIN = 96
"""Context each tile sees beyond its core. The local stages' receptive field reaches 266 px, but the
influence of far pixels fades fast: tiled vs untiled PSNR on a 768x512 photo at tile 256 is 44.6 dB
at a 32 px margin, 51 dB at 64, 64 dB at 96 and 76 dB at 128 (docs/usage.md). 96 is invisible and
cuts the work per tile several-fold compared with the full 266."""
MIN_TILE = 64
"""Smallest tile core: a `tile` of 1..63 is raised to it (and the auto size never goes below it). Smaller
cores would save next to no memory, since every window carries 2 x (TILE_MARGIN + BLEND) = 224 px of context
around its core and the whole-image buffers stay, while multiplying the work: at 64 px the network already
runs on (64 + 224)^2 / 64^2 = 20x the pixels it keeps. Cores are multiples of the network's `local_multiple`
(4 or 8)."""
MIN_LOCAL_SIDE = 64
"""Smaller inputs are padded up to this: the Enhancement-Net's unpadded 7x7 convolutions need room."""

Progress = Callable[[int, int], None]
Fitted = tuple["tuple[np.ndarray, np.ndarray] | None", "np.ndarray | None"]
"""One frame's fast-mode fit: guided-filter coefficients of the network's result (None where the gate keeps
the whole frame and the network did not run), and the gate's weights (None without a gate)."""


@dataclass
class EnhanceResult:
    image: np.ndarray
    """HxWx3 float32 in [0, 1]."""
    attention: np.ndarray
    """HxW float32 in [0, 1]: where the model brightened (large = was dark)."""


def pad_to_multiple(x: np.ndarray, multiple: int, minimum: int = 0) -> np.ndarray:
    """Pad (..., H, W) at the bottom/right to multiples of `multiple`, at least `minimum`, by reflection."""
    h, w = x.shape[-2:]
    ph, pw = (max(minimum, n + -n % multiple) - n for n in (h, w))
    if not (ph or pw):
        return x
    pads = [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)]
    return np.pad(x, pads, mode="reflect" if min(h, w) > 1 else "edge")


def _resize(x: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    """Resize (N, C, H, W) to size=(h, w) with OpenCV, channel by channel."""
    import cv2

    n, c = x.shape[:2]
    out = np.empty((n, c, *size), np.float32)
    for i in range(n):
        for j in range(c):
            out[i, j] = cv2.resize(x[i, j], (size[1], size[0]), interpolation=interpolation)
    return out


class Enhancer:
    """Load weights once, enhance many images or frames.

    Args:
        weights: a bundled name, a weights folder, a .safetensors file or an hf:// address.
        device: `auto` (CUDA when usable), `cpu` or `cuda[:N]`; `cuda` fails loudly when unusable.
        precision: fp32, fp16 (CUDA, NaN/inf guard recomputing in fp32) or auto; see
            `lowlight_cli.inference.precision`.
        half: the older spelling of precision="fp16" (kept as an alias).
        tile: tile core size in pixels; None picks one from the device's memory budget, 0 never tiles.
        backend: `auto` (see `backend_choice.auto_backend`), `torch`, `onnx` or `onnx-tensorrt` (see
            `lowlight_cli.inference.onnx_backend`), or a Backend.
        attention_max_side: compute the attention map on a copy downscaled to this longer side.
        controls: strength, exposure and keep-colour applied to every result of `enhance` (see
            `lowlight_cli.inference.controls`); `enhance_batch` returns the network's raw results.
        fast: fast mode (`--fast`): the network runs on a copy whose longer side is `fast_side` and its result
            is carried to full size by a guided filter (`lowlight_cli.inference.guided_upsampling`).
        gate: apply the weights' attention gate (`inference.whole_image_gate`), if they have one; False gives
            the network's result everywhere, also on the parts (or whole photos) the gate would leave as they
            are.
    """

    def __init__(
        self,
        weights: str = DEFAULT_WEIGHTS,
        *,
        device: str = "auto",
        half: bool = False,
        precision: str | None = None,
        tile: int | None = None,
        backend: str | Backend = DEFAULT_BACKEND,
        attention_max_side: int = ATTENTION_MAX_SIDE,
        controls: Controls = Controls(),
        fast: bool = False,
        fast_side: int = FAST_SIDE,
        gate: bool = True,
    ) -> None:
        from lowlight_cli.errors import LowlightError

        if half and precision not in (None, "fp16"):
            raise LowlightError(
                f"precision {precision} contradicts half (which means precision fp16)", param="precision"
            )
        if tile is not None and tile < 0:
            raise LowlightError(f"tile {tile} is out of range: 0 (never tile) or more", param="tile")
        if fast_side < MIN_LOCAL_SIDE:
            raise LowlightError(
                f"fast_side {fast_side}: must be at least {MIN_LOCAL_SIDE} px", param="fast_side"
            )
        self.backend = (
            backend
            if not isinstance(backend, str)
            else _make_backend(backend, weights, device, precision or ("fp16" if half else DEFAULT_PRECISION))
        )
        self.tile = tile
        self.fast_side = fast_side if fast else None
        self.attention_max_side = min(attention_max_side, fast_side) if self.fast_side else attention_max_side
        self.controls = controls
        self.gate = gate
        self.margin = min(TILE_MARGIN, self.backend.local_radius)

    @property
    def description(self) -> str:
        tiling = "no tiling" if self.tile == 0 else f"tile {self.tile}" if self.tile else "auto tiling"
        if self.tile and self.tile < MIN_TILE:
            tiling = f"tile {MIN_TILE} (tile {self.tile} raised to the smallest core)"
        if self.fast_side:
            tiling += f", fast (network at {self.fast_side} px, guided upsampling)"
        if self._config is not None and self._config.attention_gate is not None:
            tiling += ", attention gate" + ("" if self.gate else " off")
        return (
            f"{self.backend.description}, "
            f"{tiling}{'' if self.controls.neutral else ', ' + self.controls.description}"
        )

    def attention(self, rgb: np.ndarray) -> np.ndarray:
        """The global attention map (H, W) of one HxWx3 image."""
        return self._attention(_to_nchw(rgb))[0, 0]

    def enhance(
        self, rgb: np.ndarray, attention: np.ndarray | None = None, progress: Progress | None = None
    ) -> EnhanceResult:
        """Enhance one HxWx3 image and apply the controls; pass `attention` (HxW) to reuse a precomputed map.
        At strength 0 the network is not run and the image comes back unchanged.

        `rgb` is float in [0, 1], or uint8 (0-255) or uint16 (0-65535), scaled to [0, 1]; the result is
        float32 in [0, 1] either way. Any other dtype, shape or range raises LowlightError naming what is
        expected."""
        rgb = as_unit_rgb(rgb)
        if self.controls.strength == 0:
            return EnhanceResult(np.asarray(rgb, np.float32), np.zeros(rgb.shape[:2], np.float32))
        result = self.enhance_batch(rgb[None], None if attention is None else attention[None], progress)[0]
        result.image = self.controls.apply(rgb, result.image)
        return result

    def enhance_batch(
        self, frames: np.ndarray, attentions: np.ndarray | None = None, progress: Progress | None = None
    ) -> list[EnhanceResult]:
        """Enhance N same-size frames (N, H, W, 3) in one pass per tile (video); in fast mode the network
        sees downscaled copies and the results are carried back to full size."""
        frames = as_unit_rgb(frames, batch=True)
        h, w = frames.shape[1:3]
        size = self.fast_size(h, w)
        if size is not None:
            small = np.stack([downscale(f, size) for f in frames])
            att = None if attentions is None else np.stack([downscale(a, size) for a in attentions])
            fitted, small_maps = self.fast_fit(small, att, progress)
            maps = attentions if attentions is not None else [_upsize(m, (h, w)) for m in small_maps]
            return [EnhanceResult(self.carry(f, c), m) for f, c, m in zip(frames, fitted, maps, strict=True)]
        return self._enhance_batch(frames, attentions, progress)

    def fast_size(self, height: int, width: int) -> tuple[int, int] | None:
        """(h, w) of the copy the network sees in fast mode;
        None in full mode or when the image is that small."""
        if self.fast_side and max(height, width) > self.fast_side:
            return small_size(height, width, self.fast_side)
        return None

    def fast_fit(
        self, small: np.ndarray, attentions: np.ndarray | None = None, progress: Progress | None = None
    ) -> tuple[list[Fitted], list[np.ndarray]]:
        """Fast mode's first half, on frames already at `fast_size` (N, h, w, 3): for each, the network's
        ungated result as guided-filter coefficients (`guided_upsampling.fit`) and the attention gate's
        weights at that size (None without a gate), which `carry` takes to any full-size frame; and the
        attention maps."""
        if attentions is None:
            attentions = self._attention(np.ascontiguousarray(small.transpose(0, 3, 1, 2), dtype=np.float32))[
                :, 0
            ]
        weights = self._gate_weights(attentions[:, None])
        if weights is not None and not weights.any():  # the gate keeps every frame: no local stages, no fit
            return [(None, w[0]) for w in weights], list(attentions)
        results = self._enhance_batch(small, attentions, progress, gate=False)
        fitted: list[Fitted] = [
            (fit(s, r.image), None if weights is None else weights[i, 0])
            for i, (s, r) in enumerate(zip(small, results, strict=True))
        ]
        return fitted, [r.attention for r in results]

    def carry(self, frame: np.ndarray, fitted: Fitted) -> np.ndarray:
        """Fast mode's second half: a full-size HxWx3 `frame` enhanced by one `fast_fit` result. The gate
        blends at full size, so what it keeps is the frame itself, not a guided-filter copy of it."""
        coefficients, weights = fitted
        if coefficients is None:
            return np.array(frame, np.float32)
        image = apply(frame, *coefficients)
        if weights is None:
            return image
        return np.clip(blend(frame, image, _upsize(weights, frame.shape[:2])[..., None]), 0, 1)

    @property
    def _config(self) -> AgLLNetConfig | LiteConfig | None:
        """The weights' config; None for a Backend written before the gate left the graphs
        (it has no gate)."""
        return getattr(self.backend, "config", None)

    def _gate_weights(self, attention: np.ndarray) -> np.ndarray | None:
        """The weights' gate on (N, 1, H, W) maps (`whole_image_gate.gate_weights`); None without a gate or
        with gate=False."""
        return gate_weights(self._config, attention) if self.gate and self._config is not None else None

    def _enhance_batch(
        self,
        frames: np.ndarray,
        attentions: np.ndarray | None = None,
        progress: Progress | None = None,
        gate: bool = True,
    ) -> list[EnhanceResult]:
        """The network on full-size frames (N, H, W, 3), gated unless `gate` is False (then ungated even with
        the weights' gate: fast mode gates at full size)."""
        x = np.ascontiguousarray(frames.transpose(0, 3, 1, 2), dtype=np.float32)
        h, w = x.shape[-2:]
        att = self._attention(x) if attentions is None else attentions[:, None].astype(np.float32)
        m = self.backend.local_multiple
        pad = lambda a: pad_to_multiple(a, m, MIN_LOCAL_SIDE)  # noqa: E731
        weights = self._gate_weights(att) if gate else None
        if weights is not None and not weights.any():
            out = x.copy()  # the gate keeps every pixel of every frame: the local stages need not run
            if progress:
                progress(1, 1)
        else:
            out = self._local(pad(x), pad(att), progress)[:, :, :h, :w]
            if weights is not None:
                blend_into(x, out, weights)
        np.clip(out, 0.0, 1.0, out=out)
        return [EnhanceResult(out[i].transpose(1, 2, 0), att[i, 0]) for i in range(len(out))]

    def _attention(self, x: np.ndarray) -> np.ndarray:
        import cv2

        h, w = x.shape[-2:]
        scale = min(1.0, self.attention_max_side / max(h, w))
        small = (
            x
            if scale == 1.0
            else _resize(x, (max(1, round(h * scale)), max(1, round(w * scale))), cv2.INTER_AREA)
        )
        sh, sw = small.shape[-2:]
        att = self.backend.attention(pad_to_multiple(small, self.backend.attention_multiple))[:, :, :sh, :sw]
        return att if scale == 1.0 else _resize(att, (h, w), cv2.INTER_LINEAR)

    def tile_size(self, height: int, width: int) -> int:
        """Core size for a canvas; the whole canvas when it fits the memory budget or tiling is off."""
        if self.tile == 0:
            return max(height, width)
        if self.tile:
            return max(self.tile, MIN_TILE)
        budget = TILE_BUDGET_PIXELS.get(self.backend.device_type, TILE_BUDGET_PIXELS["cpu"])
        if height * width <= budget:
            return max(height, width)
        return max(MIN_TILE, int(math.sqrt(budget)) - 2 * (self.margin + BLEND))

    def _local(self, x: np.ndarray, att: np.ndarray, progress: Progress | None) -> np.ndarray:
        n, _, h, w = x.shape
        tiles = plan_tiles(h, w, self.tile_size(h, w), self.margin, BLEND, self.backend.local_multiple)
        if len(tiles) == 1:
            out = self.backend.local(x, att)
            if progress:
                progress(1, 1)
            return out
        blenders = [Blender(3, h, w) for _ in range(n)]
        for i, t in enumerate(tiles):
            rows, cols = slice(*t.rows.window), slice(*t.cols.window)
            out = self.backend.local(
                np.ascontiguousarray(x[:, :, rows, cols]), np.ascontiguousarray(att[:, :, rows, cols])
            )
            for blender, o in zip(blenders, out, strict=True):
                blender.add(t, o)
            if progress:
                progress(i + 1, len(tiles))
        return np.stack([b.result() for b in blenders])


FLOAT_SLACK = 1.0 + 1e-3
"""Float pixels may overshoot 1 by rounding; beyond this they are taken for 0-255 values (an error)."""


def as_unit_rgb(rgb: np.ndarray, batch: bool = False) -> np.ndarray:
    """`rgb` as float32 in [0, 1]: uint8 / uint16 scaled by their full range, float checked;
    else LowlightError."""
    from lowlight_cli.errors import LowlightError

    a = np.asarray(rgb)
    shape = "(N, H, W, 3)" if batch else "(H, W, 3)"
    if a.ndim != (4 if batch else 3) or a.shape[-1] != 3 or min(a.shape[-3:-1], default=0) < 1:
        raise LowlightError(f"expected an RGB array of shape {shape}, got shape {a.shape}")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / 255.0
    if a.dtype == np.uint16:
        return a.astype(np.float32) / 65535.0
    if not np.issubdtype(a.dtype, np.floating):
        raise LowlightError(
            f"expected float in [0, 1], uint8 (0-255) or uint16 (0-65535) pixels, got {a.dtype}"
        )
    a = a.astype(np.float32, copy=False)
    if not np.isfinite(a).all():
        raise LowlightError("the image holds NaN or infinite values; expected float pixels in [0, 1]")
    low, high = float(a.min()), float(a.max())
    if low < -1e-3 or high > FLOAT_SLACK:
        hint = " (0-255 values? pass uint8, or divide by 255)" if high <= 255.0 + 1e-3 else ""
        raise LowlightError(f"float pixels must lie in [0, 1], these span [{low:g}, {high:g}]{hint}")
    return a


def _upsize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    return cv2.resize(x, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)


def _to_nchw(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)


def _make_backend(name: str, weights: str, device: str, precision: str) -> Backend:
    """`torch`, or `onnx` / `onnx-tensorrt` (onnxruntime on the exported graphs; torch is never imported)."""
    from lowlight_cli.inference.backend_choice import auto_backend, require_backend

    requested = name
    if name == "auto":
        name = auto_backend(weights, device)
    require_backend(name, requested, str(weights))  # a missing extra: one line naming it
    if name == "torch":
        from lowlight_cli.inference.backends import TorchBackend
        from lowlight_cli.weights.model_io import load_model

        return TorchBackend(load_model(weights), device=device, precision=precision)
    if name in ONNX_BACKENDS:
        from lowlight_cli.inference.onnx_backend import OnnxBackend
        from lowlight_cli.weights.registry import resolve_onnx

        return OnnxBackend(
            resolve_onnx(weights), device=device, precision=precision, tensorrt=name == "onnx-tensorrt"
        )
    from lowlight_cli.errors import LowlightError

    raise LowlightError(
        f"backend {name}: unknown (choose from {', '.join(BACKEND_CHOICES)})", param="backend"
    )
