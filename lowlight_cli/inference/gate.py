"""The attention gate at inference: the blend of the network's result with the input runs on the whole image's
attention map, smoothed first (`AgLLNetConfig.attention_gate_blur`), after the tiles are stitched.

Why here and not in the graphs: a per-pixel gate follows every wiggle of the map, and where the map crosses the
gate's thresholds inside a smooth region (a twilight sky) the output shows a curved edge between a brightened part
and a kept part. A map blurred over a good share of the image cannot be computed tile by tile, so the gate runs
once per image on the global map. Training blends with the crop's own map (`models.agllnet.gated`), the same formula.
"""

from __future__ import annotations

import numpy as np

from lowlight_cli.models.gate import gated
from lowlight_cli.models.config import AgLLNetConfig

BLUR_SIDE = 256
"""The map is blurred on a copy whose longer side is this (a blurred map is smooth; full size would be slow)."""


def gate_map(attention: np.ndarray, blur: float) -> np.ndarray:
    """`attention` (H, W) blurred by a Gaussian whose sigma is `blur` times the longer side; unchanged at 0."""
    import cv2

    if blur <= 0:
        return attention
    h, w = attention.shape
    scale = min(1.0, BLUR_SIDE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(attention, size, interpolation=cv2.INTER_AREA) if scale < 1 else attention
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=blur * max(small.shape), borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) if scale < 1 else small


def apply_gate(config: AgLLNetConfig, image: np.ndarray, output: np.ndarray, attention: np.ndarray) -> np.ndarray:
    """The weights' gate on the network's `output` (N, 3, H, W) for `image` (N, 3, H, W), each frame with its
    whole attention map (N, 1, H, W); `output` itself when the weights have no gate."""
    if config.attention_gate is None:
        return output
    maps = np.stack([gate_map(a[0], config.attention_gate_blur) for a in attention])[:, None]
    return gated(image, output, maps, config.attention_gate)
