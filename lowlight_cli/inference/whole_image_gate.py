"""The attention gate at inference: the blend of the network's result with the input runs on the whole image's
attention map, smoothed first (`AgLLNetConfig.attention_gate_blur`), after the tiles are stitched.

Why here and not in the graphs: a per-pixel gate follows every wiggle of the map, and where the map crosses
the gate's thresholds inside a smooth region (a twilight sky) the output shows a curved edge between a
brightened part and a kept part. A map blurred over a good share of the image cannot be computed tile by tile,
so the gate runs once per image on the global map. Training blends with the crop's own map
(`models.gate.gated`), the same formula.
"""

from __future__ import annotations

import numpy as np

from lowlight_cli.models.config import AgLLNetConfig, LiteConfig
from lowlight_cli.models.gate import gate_weight

BLUR_SIDE = 256
"""The map is blurred on a copy whose longer side is this
(a blurred map is smooth; full size would be slow)."""


def gate_map(attention: np.ndarray, blur: float) -> np.ndarray:
    """`attention` (H, W) blurred by a Gaussian whose sigma is `blur` times the longer side;
    unchanged at 0."""
    import cv2

    if blur <= 0:
        return attention
    h, w = attention.shape
    scale = min(1.0, BLUR_SIDE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(attention, size, interpolation=cv2.INTER_AREA) if scale < 1 else attention
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=blur * max(small.shape), borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) if scale < 1 else small


def gate_weights(config: AgLLNetConfig | LiteConfig, attention: np.ndarray) -> np.ndarray | None:
    """Per-pixel weights (N, 1, H, W) of the network's result under the weights' gate, from each frame's whole
    attention map (N, 1, H, W): 0 keeps the input, 1 takes the network's image. None when there is no gate."""
    if config.attention_gate is None:
        return None
    maps = np.stack([gate_map(a[0], config.attention_gate_blur) for a in attention])[:, None]
    return gate_weight(maps, config.attention_gate).astype(np.float32)
