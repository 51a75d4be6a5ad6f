"""The attention map as a colour heat-map, so users see where the model brightened."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lowlight_cli.io.atomic import atomic_path


def heatmap(attention: np.ndarray) -> np.ndarray:
    """HxW map in [0, 1] -> HxWx3 uint8 RGB (inferno: black = left alone, yellow = brightened most)."""
    import cv2

    gray = np.rint(np.clip(attention, 0.0, 1.0) * 255).astype(np.uint8)
    return cv2.applyColorMap(gray, cv2.COLORMAP_INFERNO)[..., ::-1]


def write_heatmap(path: str | Path, attention: np.ndarray) -> Path:
    """Write the heat-map of `attention` as a PNG, atomically."""
    from PIL import Image

    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(heatmap(attention))).save(tmp, format="PNG")
    return path
