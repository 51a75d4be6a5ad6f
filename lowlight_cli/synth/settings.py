"""`SynthSettings`: every default of the synthesis pipeline, defined once for the API and the CLI.

Ranges are (low, high) pairs sampled uniformly per image. Sources for each value are in docs/synth.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

Range = tuple[float, float]


@dataclass(frozen=True)
class SynthSettings:
    # candidate selection (spec 1.1); each filter can be switched off
    darkness_filter: bool = True
    bright_level: float = 0.2
    """A SLIC superpixel is bright when its mean luma (0-1) reaches this."""
    bright_fraction: float = 0.85
    """An image is kept when at least this fraction of its superpixels is bright (paper: 85 %)."""
    superpixels: int = 100
    blur_filter: bool = True
    blur_threshold: float = 500.0
    """Variance of the Laplacian on 8-bit greyscale (paper: 500)."""
    colour_filter: bool = True
    colour_threshold: float = 15.0
    """Hasler-Suesstrunk colourfulness; 15 is their "slightly colourful" level (see docs/synth.md)."""

    # low-light transform I_out = beta * (alpha * I_in) ** gamma (spec 1.2)
    alpha: Range = (0.9, 1.0)
    beta: Range = (0.5, 1.0)
    gamma: Range = (1.5, 5.0)

    # camera-pipeline noise (spec 1.3; CBDNet's ranges, not verified against the paper)
    sigma_s: Range = (0.0, 0.16)
    """Signal-dependent noise: variance sigma_s**2 * irradiance."""
    sigma_c: Range = (0.0, 0.06)
    """Signal-independent (read) noise standard deviation."""
    crf_gamma: Range = (2.0, 2.6)
    """Camera response f(x) = x ** (1 / crf_gamma), a stand-in for CBDNet's 201 DoRF curves."""
    jpeg_quality: Optional[int] = None
    """JPEG-compress the noisy low image at this quality; None (default) leaves it out, as the paper does."""

    # contrast-amplified target for Reinforce-Net (spec 1.4)
    exposures: int = 10
    exposure_gamma: Range = (0.4, 2.5)
    """The fused exposures are I ** g for g log-spaced over this range (brightest first)."""
    detail_sigma_s: float = 10.0
    detail_sigma_r: float = 0.15
    """cv2.detailEnhance: spatial and range sigma of the edge-preserving base/detail split."""

    # dataset
    test_fraction: float = 0.01
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULTS = SynthSettings()
