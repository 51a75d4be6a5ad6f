"""One synthesized training example from one normal-light image: the shared core of the pipeline and
the on-the-fly training loader."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lowlight_cli.synth.lowlight import darken, uniform
from lowlight_cli.synth.noise import BAYER, camera_noise
from lowlight_cli.synth.settings import SynthSettings
from lowlight_cli.synth.targets import amplify_contrast, attention_map, noise_map

KINDS = ("high", "low", "low_clean", "attention", "noise", "amplified")
"""Every array of a pair, in the order they are written; `high` is the normal-light image."""


@dataclass
class Pair:
    """Float32 arrays in [0, 1] (HxWx3; attention HxW; noise signed) and the sampled parameters."""

    high: np.ndarray
    low: np.ndarray
    low_clean: np.ndarray
    attention: np.ndarray
    noise: np.ndarray
    amplified: np.ndarray
    params: dict


def sample_params(rng: np.random.Generator, settings: SynthSettings) -> dict:
    """Draw the per-image parameters in a fixed order, so a seed always gives the same values."""
    return {
        "alpha": uniform(rng, settings.alpha),
        "beta": uniform(rng, settings.beta),
        "gamma": uniform(rng, settings.gamma),
        "sigma_s": uniform(rng, settings.sigma_s),
        "sigma_c": uniform(rng, settings.sigma_c),
        "crf_gamma": uniform(rng, settings.crf_gamma),
        "bayer": sorted(BAYER)[int(rng.integers(len(BAYER)))],
        "jpeg_quality": settings.jpeg_quality,
    }


def synthesize(high: np.ndarray, rng: np.random.Generator, settings: SynthSettings, quantize: bool = False) -> Pair:
    """Darken `high` (float32 HxWx3 in [0, 1]), add camera noise and build the targets.

    With `quantize`, the low images are rounded to 8 bits before the noise map is taken, so the stored
    files satisfy low = low_clean + noise exactly as the loader will read them.
    """
    from lowlight_cli.synth.noise import to_uint8

    p = sample_params(rng, settings)
    low_clean = darken(high, p["alpha"], p["beta"], p["gamma"])
    low = camera_noise(low_clean, rng, p["sigma_s"], p["sigma_c"], p["crf_gamma"], p["bayer"], p["jpeg_quality"])
    if quantize:
        low_clean, low = (to_uint8(x).astype(np.float32) / 255.0 for x in (low_clean, low))
    amplified = amplify_contrast(
        high, settings.exposures, settings.exposure_gamma, settings.detail_sigma_s, settings.detail_sigma_r
    )
    return Pair(high, low, low_clean, attention_map(high, low_clean), noise_map(low, low_clean), amplified, p)
