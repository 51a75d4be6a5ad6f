"""Fast mode (`--fast`): run the network on a small copy, carry its result to full size with a guided filter.

The network sees the frame downscaled (area average) so its longer side is `FAST_SIDE`. Its result is then
explained, in each small window, as an affine function of the small input's luma, per output channel
(He & Sun's fast guided filter: out_c ~ a_c * luma + b_c); a_c and b_c are smooth, so they are upsampled
bilinearly and applied to the full-size luma, which brings back the full-size edges and texture.

Noise: a_c is the local brightening gain (often 5-20x in the dark), so full-size sensor noise in the guide
would come back amplified, the noise the network removed at the small size. The full-size guide is therefore
denoised first by a self-guided filter whose eps is set from the noise level measured in the frame itself
(the median absolute deviation of the guide's fine detail, `mad_noise_sigma`): flat, noisy areas are
smoothed to their local mean and edges above the noise stay. Everything is box filters (OpenCV), linear
in pixels.
"""

from __future__ import annotations

import numpy as np

from lowlight_cli.colour import luma_709

FAST_SIDE = 256
"""Longer side, in pixels, of the copy the network sees in fast mode (1080p: 256x144, 56x fewer pixels). At
384 px 1080p video ran at 0.95 frames/s on two cores, at 256 px 1.86 (network on every frame;
docs/results/speed/fast-video.json)."""
RADIUS = 2
"""Window radius of the affine fit at the small size (window 5x5 small pixels)."""
EPS = 1e-4
"""Regularisation of the fit at the small size: below ~1 % local contrast the fit is a local mean."""
DENOISE_RADIUS = 2
"""Window radius of the full-size guide's self-guided denoising."""
DENOISE_K = 3.0
"""Variance below (DENOISE_K * sigma)^2 in a window is treated as noise and smoothed away."""


def box(x: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, mirrored borders (float32 in, float32 out)."""
    import cv2

    k = 2 * radius + 1
    return cv2.boxFilter(x, -1, (k, k), borderType=cv2.BORDER_REFLECT_101)


def guided_coefficients(
    guide: np.ndarray, src: np.ndarray, radius: int, eps: float
) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s guided filter with a grey guide (HxW) and an HxW or HxWxC source: the window-averaged
    affine coefficients (a, b) such that the filtered source is a * guide + b (float64 if either input is)."""
    dtype = np.result_type(guide.dtype, src.dtype, np.float32)
    i, p = guide.astype(dtype, copy=False), src.astype(dtype, copy=False)
    ig = i[..., None] if p.ndim == 3 else i
    mean_i, mean_p = box(i, radius), box(p, radius)
    mi = mean_i[..., None] if p.ndim == 3 else mean_i
    var_i = box(i * i, radius) - mean_i * mean_i
    vi = var_i[..., None] if p.ndim == 3 else var_i
    a = box(ig * p, radius)
    a -= mi * mean_p
    a /= vi + eps
    mean_p -= a * mi  # b
    return box(a, radius), box(mean_p, radius)


def guided_filter(guide: np.ndarray, src: np.ndarray, kernel: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter (grey guide), window `kernel` = 2r+1, computed in float64
    (the LIME baseline)."""
    i = guide.astype(np.float64)
    a, b = guided_coefficients(i, src.astype(np.float64), kernel // 2, eps)
    return (a * i + b).astype(np.float32)


def mad_noise_sigma(grey: np.ndarray) -> float:
    """Standard deviation of the noise in an HxW image, from the median absolute deviation of its finest
    detail (grey minus its 3x3 mean, scaled for that filter's response to white noise)."""
    detail = np.abs(grey - box(grey, 1))[::3, ::3]  # every 9th pixel: plenty for a median, 9x cheaper
    return float(np.median(detail) / 0.6745 / np.sqrt(1 - 1 / 9))


def small_size(height: int, width: int, side: int = FAST_SIDE) -> tuple[int, int]:
    """(h, w) of the copy the network sees: longer side `side`, aspect kept."""
    scale = side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def downscale(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-average resize of an HxW or HxWxC float32 image to size=(h, w)."""
    import cv2

    return cv2.resize(rgb, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def fit(small_in: np.ndarray, small_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The network's result `small_out` for `small_in` as small-size affine coefficients (a, b) of the input's
    luma: small_out ~ a * luma(small_in) + b, per output channel (HxWx3 each)."""
    return guided_coefficients(luma_709(small_in), small_out, RADIUS, EPS)


def apply(full: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Coefficients from `fit` upsampled to `full`'s size and applied to its (denoised) luma. In video fast
    mode a keyframe's coefficients are also applied to the frames that follow it (a local tone map of luma
    stays valid under small motion; `lowlight_cli.video.enhance`)."""
    import cv2

    h, w = full.shape[:2]
    a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    guide = luma_709(full)
    sigma = mad_noise_sigma(guide)
    if sigma > 0:
        ga, gb = guided_coefficients(guide, guide, DENOISE_RADIUS, (DENOISE_K * sigma) ** 2)
        np.multiply(guide, ga, out=guide)
        np.add(guide, gb, out=guide)
    np.multiply(a, guide[..., None], out=a)
    np.add(a, b, out=a)
    return np.clip(a, 0.0, 1.0, out=a)
