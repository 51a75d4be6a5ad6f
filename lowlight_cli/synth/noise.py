"""Camera-pipeline noise (spec 1.3, after CBDNet): noise is added to the raw Bayer mosaic.

sRGB --inverse CRF--> irradiance; shot + read + row noise drawn on its raw mosaic, demosaiced (cv2) and
added to it --CRF--> sRGB, optionally JPEG-compressed (as a camera or phone does after its noise). The shot
part uses CBDNet's heteroscedastic Gaussian approximation: variance = sigma_s**2 * x + sigma_c**2 for a raw
value x in [0, 1]; row noise adds one Gaussian offset of deviation sigma_row to each sensor row (banding).
"""

from __future__ import annotations

import numpy as np

BAYER = {"RGGB": "BayerBG2RGB", "BGGR": "BayerRG2RGB", "GRBG": "BayerGB2RGB", "GBRG": "BayerGR2RGB"}
"""Pattern (top-left 2x2, row-major) -> the OpenCV conversion that demosaics it (checked in the tests)."""
DEBIAS_SIGMA = 4.0
"""Gaussian sigma (pixels) of the local noise mean that `camera_noise(debias=True)` removes."""
RAW_MAX = 65535
"""The mosaic is quantised to 16 bits for cv2's demosaicing: far finer than the noise."""


def mosaic(rgb: np.ndarray, pattern: str) -> np.ndarray:
    """Keep one colour per pixel following the 2x2 Bayer `pattern`."""
    raw = np.empty(rgb.shape[:2], rgb.dtype)
    for k, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        raw[dy::2, dx::2] = rgb[dy::2, dx::2, "RGB".index(pattern[k])]
    return raw


def demosaic(raw: np.ndarray, pattern: str) -> np.ndarray:
    """Bilinear demosaicing by OpenCV of a float mosaic in [0, 1]; returns float32 RGB."""
    import cv2

    raw16 = np.round(np.clip(raw, 0, 1) * RAW_MAX).astype(np.uint16)
    return cv2.cvtColor(raw16, getattr(cv2, f"COLOR_{BAYER[pattern]}")).astype(np.float32) / RAW_MAX


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip float RGB through an in-memory JPEG at `quality`."""
    import cv2

    ok, buf = cv2.imencode(".jpg", to_uint8(rgb)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok, "JPEG encoding failed"
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert decoded is not None, "JPEG decoding failed"
    return decoded[..., ::-1].astype(np.float32) / 255.0


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    return np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def camera_noise(
    rgb: np.ndarray,
    rng: np.random.Generator,
    sigma_s: float,
    sigma_c: float,
    crf_gamma: float,
    pattern: str,
    jpeg_quality: int | None = None,
    sigma_row: float = 0.0,
    debias: bool = False,
) -> np.ndarray:
    """Noisy version of float32 sRGB `rgb` in [0, 1] (HxWx3, even or odd size).

    The noise is drawn per raw (mosaic) pixel and demosaiced, so it has a camera's colour and spatial
    correlation; it is added to the full-colour irradiance rather than to a demosaiced mosaic, so the
    image keeps its detail (bilinear demosaicing would blur it, and a model trained on that would learn to
    sharpen every photo). Bilinear demosaicing is linear, so this equals demosaic(raw + noise) minus the
    demosaicing blur of the signal.

    Clipping at black and the concave camera response turn zero-mean noise into a local bias that differs
    per channel: brightened, a noisy dark image looks magenta next to its clean version. With `debias`, that
    local bias (the noise's Gaussian-blurred mean, sigma DEBIAS_SIGMA) is subtracted before JPEG, so the noisy
    image keeps the clean image's local colour and a model trained on it learns no colour shift.
    """
    irradiance = np.power(np.clip(rgb, 0, 1), crf_gamma)
    raw = mosaic(irradiance, pattern)
    std = np.sqrt(sigma_s**2 * raw + sigma_c**2)
    noise_raw = std * rng.standard_normal(raw.shape, dtype=np.float32)
    if sigma_row:
        noise_raw += np.float32(sigma_row) * rng.standard_normal((raw.shape[0], 1), dtype=np.float32)
    noise = demosaic(noise_raw + 0.5, pattern) - 0.5  # demosaic works on [0, 1]; noise is far inside +-0.5
    noisy = np.power(np.clip(irradiance + noise, 0, 1), 1.0 / crf_gamma).astype(np.float32)
    if debias:
        import cv2

        for _ in range(2):  # the second pass removes most of what clipping the first one brought back
            noisy = np.clip(noisy - cv2.GaussianBlur(noisy - rgb, (0, 0), DEBIAS_SIGMA), 0, 1)
    return jpeg(noisy, int(jpeg_quality)) if jpeg_quality else noisy
