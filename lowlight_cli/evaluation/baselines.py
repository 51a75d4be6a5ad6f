"""Classical low-light baselines, so every learned figure has a reference beside it.

All take and return HxWx3 float32 RGB in [0, 1]. Parameters are fixed (no tuning on test data):
- gamma: a global power curve I^g with g = log(0.5) / log(mean luma), lifting the mean luma to 0.5
  (g clipped to [0.1, 1] so bright images are left alone).
- clahe: OpenCV CLAHE (clip limit 2, 8x8 tiles) on the L channel of CIE L*a*b*; colours untouched.
- lime: LIME-style Retinex (Guo et al. 2017) with its closed-form shortcut: the illumination map
  T0 = max_c(I) is refined by an edge-preserving guided filter (He et al.; T0 as its own guide, 15x15 OpenCV
  box filters, eps 1e-3)
  instead of LIME's iterative optimisation, then gamma-corrected T = T^0.8 and I / max(T, 0.05).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lowlight_cli.colour import mean_luma
from lowlight_cli.inference.guided_upsampling import guided_filter


def gamma(rgb: np.ndarray) -> np.ndarray:
    mean = float(np.clip(mean_luma(rgb), 1e-4, 0.99))
    g = float(np.clip(np.log(0.5) / np.log(mean), 0.1, 1.0))
    return np.power(rgb, g).astype(np.float32)


def clahe(rgb: np.ndarray) -> np.ndarray:
    import cv2

    lab = cv2.cvtColor((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8), cv2.COLOR_RGB2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB).astype(np.float32) / 255


def lime(
    rgb: np.ndarray, kernel: int = 15, eps: float = 1e-3, t_gamma: float = 0.8, floor: float = 0.05
) -> np.ndarray:
    t0 = np.ascontiguousarray(rgb.max(axis=2), dtype=np.float32)
    t = np.clip(guided_filter(t0, t0, kernel, eps), floor, 1.0) ** t_gamma
    return np.clip(rgb / t[..., None], 0, 1).astype(np.float32)


BASELINES: dict[str, Callable[[np.ndarray], np.ndarray]] = {"gamma": gamma, "clahe": clahe, "lime": lime}
