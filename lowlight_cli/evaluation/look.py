"""Look metrics: how an output looks next to its own input, with or without a target.

Every function takes HxWx3 float32 RGB in [0, 1] (sRGB) and needs only NumPy and OpenCV. The colour
metrics compare the output with a *reference*: the input brightened by one global gamma to the output's
mean luma. That reference has the input's own chromaticity at the output's brightness, so any colour
shift, chroma change or contrast change it shows is what the method did beyond brightening.

    luma             mean Rec.601 luma
    clipped          share of pixels with a channel at or above CLIP_LEVEL (blown highlights)
    clipped_new      share of pixels clipped in the output but not in the input: the highlights the method
                     blew (a well-exposed photo often has clipped pixels of its own, which leaving it alone
                     keeps)
    delta_a, delta_b mean CIELAB a*, b* of the output minus those of the reference (+b* = yellower)
    delta_ab         |(delta_a, delta_b)|: the mean colour shift
    chroma_ratio     mean CIELAB chroma of the output / of the reference
    contrast_ratio   std of L* of the output / of the reference (global contrast)
    local_contrast   mean |L* - blurred L*| of the output / of the reference (detail)
    noise            residual-noise estimate (sigma, 0-1 units) in the flattest regions of the output
    black            black level: the 1st percentile of the output's CIELAB L* (0-100; lifted blacks read
                     high)
    black_change     black minus the input's black level
    niqe             NIQE of the output (`evaluation.niqe`, no reference; lower is more natural); NaN below 96
                     px
"""

from __future__ import annotations

import numpy as np

from lowlight_cli.colour import LUMA, gamma_to_mean, lab, mean_chroma, mean_luma

CLIP_LEVEL = 254.5 / 255
"""A pixel counts as clipped when one channel reaches this (255 once written as 8-bit)."""
LOCAL_SIGMA = 3.0
"""Gaussian sigma in pixels of the blur that local contrast is measured against."""
FLAT_SHARE = 0.2
"""The noise estimate looks at this share of the image: the pixels whose local structure is weakest."""
METRICS = (
    "luma",
    "clipped",
    "clipped_new",
    "delta_a",
    "delta_b",
    "delta_ab",
    "chroma_ratio",
    "contrast_ratio",
    "local_contrast",
    "noise",
    "black",
    "black_change",
    "niqe",
)
BLACK_PERCENTILE = 1.0
"""The black level is this percentile of L*."""


def black_level(lab_image: np.ndarray) -> float:
    """BLACK_PERCENTILE of the L* of an image already in CIELAB (see `lowlight_cli.colour.lab`)."""
    return float(np.percentile(lab_image[..., 0], BLACK_PERCENTILE))


def clipped_mask(rgb: np.ndarray) -> np.ndarray:
    """HxW: where a channel reaches CLIP_LEVEL."""
    return rgb.max(axis=2) >= CLIP_LEVEL


def local_contrast(lightness: np.ndarray) -> float:
    import cv2

    return float(np.abs(lightness - cv2.GaussianBlur(lightness, (0, 0), LOCAL_SIGMA)).mean())


def immerkaer_noise_sigma(rgb: np.ndarray) -> float:
    """Immerkaer's noise estimate (1996) on the luma, over the FLAT_SHARE of pixels with the least structure.

    The 3x3 kernel [1 -2 1; -2 4 -2; 1 -2 1] cancels planes and ramps; its response to white noise of
    sigma s has standard deviation 6 s. Structure is judged by the gradient magnitude of a blurred copy, so
    edges and texture are left out and what remains is noise.
    """
    import cv2

    y = np.ascontiguousarray(rgb @ LUMA, np.float32)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    response = cv2.filter2D(y, -1, kernel, borderType=cv2.BORDER_REFLECT)[1:-1, 1:-1]
    smooth = cv2.GaussianBlur(y, (0, 0), 2.0)
    grad = np.hypot(cv2.Sobel(smooth, -1, 1, 0), cv2.Sobel(smooth, -1, 0, 1))[1:-1, 1:-1]
    flat = grad <= np.quantile(grad, FLAT_SHARE)
    if not flat.any():
        return 0.0
    return float(np.sqrt(np.pi / 2) * np.abs(response[flat]).mean() / 6)


def look_metrics(inp: np.ndarray, out: np.ndarray) -> dict[str, float]:
    """METRICS of `out` against its input `inp` (same size)."""
    ref = gamma_to_mean(inp, mean_luma(out))
    clipped = clipped_mask(out)
    lab_out, lab_ref = lab(out), lab(ref)
    chroma_out, chroma_ref = mean_chroma(lab_out), mean_chroma(lab_ref)
    da = float(lab_out[..., 1].mean() - lab_ref[..., 1].mean())
    db = float(lab_out[..., 2].mean() - lab_ref[..., 2].mean())
    std_ref = float(lab_ref[..., 0].std())
    local_ref = local_contrast(lab_ref[..., 0])
    from lowlight_cli.evaluation.niqe import BLOCK, niqe

    black = black_level(lab_out)
    return {
        "luma": mean_luma(out),
        "clipped": float(clipped.mean()),
        "clipped_new": float((clipped & ~clipped_mask(inp)).mean()),
        "delta_a": da,
        "delta_b": db,
        "delta_ab": float(np.hypot(da, db)),
        "chroma_ratio": float(chroma_out / chroma_ref) if chroma_ref > 1e-3 else float("nan"),
        "contrast_ratio": float(lab_out[..., 0].std() / std_ref) if std_ref > 1e-3 else float("nan"),
        "local_contrast": local_contrast(lab_out[..., 0]) / local_ref if local_ref > 1e-6 else float("nan"),
        "noise": immerkaer_noise_sigma(out),
        "black": black,
        "black_change": black - black_level(lab(inp)),
        "niqe": niqe(out) if min(out.shape[:2]) >= BLOCK else float("nan"),
    }
