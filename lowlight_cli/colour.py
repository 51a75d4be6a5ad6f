"""Colour helpers shared by synthesis, controls, look metrics, fast mode and video (NumPy + OpenCV).

All take HxWx3 float32 sRGB in [0, 1].
"""

from __future__ import annotations

import numpy as np

LUMA = np.array([0.299, 0.587, 0.114], np.float32)
"""Rec.601 luma weights: the one brightness measure of the synthesis, the baselines, the controls and eval."""


LUMA_709 = np.array([0.2126, 0.7152, 0.0722], np.float32)
"""Rec.709 luma weights: the guide of fast mode's guided filter and the video statistics (scene cuts, flicker,
the steadied brightening gain)."""


def luma_709(rgb: np.ndarray) -> np.ndarray:
    """Rec.709 luma (HxW, a new contiguous array) of an HxWx3 image."""
    return rgb @ LUMA_709


def mean_luma_709(rgb: np.ndarray) -> float:
    """Mean Rec.709 luma of an HxWx3 image: the luma of the channel means (one OpenCV pass, ~5x cheaper)."""
    import cv2

    return float(np.dot(cv2.mean(rgb)[:3], LUMA_709))


def mean_luma(rgb: np.ndarray) -> float:
    return float((rgb @ LUMA).mean())


def gamma_to_mean(rgb: np.ndarray, target: float) -> np.ndarray:
    """`rgb ** g` with the one gamma g that gives mean luma `target` (bisection on log g; monotone in g)."""
    rgb = np.clip(rgb, 0, 1).astype(np.float32)
    lo, hi = np.log(1 / 16), np.log(16.0)
    for _ in range(40):
        mid = (lo + hi) / 2
        if mean_luma(np.power(rgb, np.float32(np.exp(mid)))) > target:
            lo = mid
        else:
            hi = mid
    return np.power(rgb, np.float32(np.exp((lo + hi) / 2)))


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB in [0, 1]: L* in 0-100, a* and b* about -128..127 (OpenCV)."""
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(np.clip(rgb, 0, 1), np.float32), cv2.COLOR_RGB2Lab)


def mean_chroma(lab_image: np.ndarray) -> float:
    """Mean CIELAB chroma sqrt(a*^2 + b*^2) of an image already in CIELAB (see `lab`)."""
    return float(np.hypot(lab_image[..., 1], lab_image[..., 2]).mean())
