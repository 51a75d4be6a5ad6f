"""Candidate selection (spec 1.1): keep well-exposed, sharp, colourful photos.

Each metric is a pure function of an HxWx3 uint8 RGB image; `evaluate` applies the thresholds of
`SynthSettings` and names the filters an image fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lowlight_cli.synth.settings import SynthSettings

FILTERS = ("darkness", "blur", "colour")
SLIC_SIDE = 256
"""SLIC runs on a copy whose long side is at most this: superpixel means do not need full resolution."""


@dataclass(frozen=True)
class Verdict:
    metrics: dict[str, float]
    failed: tuple[str, ...]

    @property
    def kept(self) -> bool:
        return not self.failed


def bright_fraction(rgb: np.ndarray, level: float, segments: int) -> float:
    """Fraction of SLIC superpixels whose mean luma (Rec. 601, 0-1) is at least `level`."""
    import cv2
    from skimage.segmentation import slic

    scale = SLIC_SIDE / max(rgb.shape[:2])
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    labels = slic(small, n_segments=segments, compactness=10, start_label=0)
    luma = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float64) / 255.0
    counts = np.bincount(labels.ravel())
    means = np.bincount(labels.ravel(), weights=luma.ravel()) / np.maximum(counts, 1)
    present = counts > 0
    return float(np.mean(means[present] >= level))


def laplacian_variance(rgb: np.ndarray) -> float:
    """Variance of the Laplacian of the 8-bit greyscale image: low means blurred."""
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness on 0-255 values: 0 grey, ~15 slightly, ~33 moderately."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def evaluate(rgb: np.ndarray, settings: SynthSettings) -> Verdict:
    """Compute the enabled metrics and list the filters that reject `rgb`: uint8 HxWx3, or float in [0, 1] as
    `io.images.read_rgb` reads a photo (rounded to 8 bits first: the thresholds are set on 8-bit values)."""
    if rgb.dtype != np.uint8:
        from lowlight_cli.synth.noise import to_uint8

        rgb = to_uint8(rgb)
    metrics: dict[str, float] = {}
    failed: list[str] = []
    if settings.darkness_filter:
        metrics["bright_fraction"] = bright_fraction(rgb, settings.bright_level, settings.superpixels)
        if metrics["bright_fraction"] < settings.bright_fraction:
            failed.append("darkness")
    if settings.blur_filter:
        metrics["laplacian_variance"] = laplacian_variance(rgb)
        if metrics["laplacian_variance"] < settings.blur_threshold:
            failed.append("blur")
    if settings.colour_filter:
        metrics["colourfulness"] = colourfulness(rgb)
        if metrics["colourfulness"] < settings.colour_threshold:
            failed.append("colour")
    return Verdict({k: round(v, 4) for k, v in metrics.items()}, tuple(failed))
