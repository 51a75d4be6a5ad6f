"""`SynthSettings`: every default of the synthesis pipeline, defined once for the API and the CLI.

Ranges are (low, high) pairs sampled uniformly per image. Sources for each value are in docs/synth.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any

from lowlight_cli.errors import LowlightError

Range = tuple[float, float]
FRACTIONS = (
    "bright_level",
    "bright_fraction",
    "identity_share",
    "mild_share",
    "ratio_darkening_share",
    "cast_share",
    "jpeg_share",
    "test_fraction",
)
"""The settings that are shares or levels between 0 and 1."""


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

    # exposure: which kind of low image each pair gets (shares of all pairs; the rest are `dark`)
    identity_share: float = 0.15
    """Pairs whose input is the well-exposed photo itself (light noise only) and whose target is the photo:
    they teach the attention map when *not* to brighten."""
    mild_share: float = 0.2
    """Mildly under-exposed pairs: the same transform with `mild_beta` and `mild_gamma`."""
    mild_beta: Range = (0.7, 1.0)
    mild_gamma: Range = (1.1, 1.5)
    # low-light transform I_out = beta * (alpha * I_in) ** gamma (spec 1.2): the `dark` pairs
    ratio_darkening_share: float = 0.0
    """Share of the darkened pairs (dark and mild) whose curve is applied to the luma with every pixel's R:G:B
    ratios kept, as a real exposure drop keeps them; the rest get the paper's per-channel curve, whose low
    images carry about twice the chroma of real ones at the same brightness (docs/synth.md#ratio-darkening).
    Drawn only when above 0, so data made before this setting existed keeps its values."""
    alpha: Range = (0.9, 1.0)
    beta: Range = (0.5, 1.0)
    gamma: Range = (1.5, 5.0)

    # illuminant colour casts on the low image, the target staying neutral
    cast_share: float = 0.25
    """Share of pairs whose low image gets one of CASTS (the rest keep neutral colour, so neutral stays
    neutral)."""
    cast_strength: Range = (0.3, 1.0)
    """0 = no cast, 1 = the full illuminant gain of CASTS."""

    # camera-pipeline noise (spec 1.3): shot + read + row noise on the raw mosaic, then optionally JPEG.
    # Levels are scaled to flat regions of real low-light photos (docs/synth.md#noise).
    sigma_s: Range = (0.0, 0.03)
    """Signal-dependent (shot) noise: variance sigma_s**2 * irradiance (CBDNet's range was 0-0.16)."""
    sigma_c: Range = (0.0, 0.005)
    """Signal-independent (read) noise standard deviation in raw units (CBDNet's range was 0-0.06)."""
    sigma_row: Range = (0.0, 0.002)
    """Row (banding) noise: one Gaussian offset per sensor row, this standard deviation in raw units."""
    crf_gamma: Range = (2.0, 2.6)
    """Camera response f(x) = x ** (1 / crf_gamma), a stand-in for CBDNet's 201 DoRF curves."""
    noise_debias: bool = True
    """Remove the noise's local mean (clipping at black and the camera response make it a per-channel bias,
    a magenta-green shift once brightened) so a model does not learn to shift colours
    (docs/synth.md#noise)."""
    jpeg_share: float = 0.5
    """Share of pairs whose noisy low image is JPEG-compressed (after the noise, as in a camera)."""
    jpeg_quality: Range = (60.0, 95.0)
    """JPEG quality range of those pairs."""

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

    def __post_init__(self) -> None:
        """A share outside 0-1 or a range whose low end is above its high end is a LowlightError naming the
        setting."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in FRACTIONS and not 0 <= value <= 1:
                raise LowlightError(
                    f"{f.name} {value:g} is out of range: must be between 0 and 1", param=f.name
                )
            if f.type not in ("Range", Range):
                continue
            if not (isinstance(value, tuple | list) and len(value) == 2):
                raise LowlightError(f"{f.name} {value!r}: expected a (low, high) pair", param=f.name)
            if value[0] > value[1]:
                raise LowlightError(f"{f.name} {value[0]:g},{value[1]:g}: low is above high", param=f.name)
            object.__setattr__(self, f.name, tuple(value))  # a list (from JSON) as the tuple it stands for

    def with_changes(self, **changes: Any) -> SynthSettings:
        """These settings with each change that is not None (None: keep this setting), checked."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict:
        return asdict(self)


DEFAULTS = SynthSettings()
