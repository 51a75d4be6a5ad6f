"""One synthesized training example from one normal-light image: the shared core of the pipeline and
the on-the-fly training loader."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lowlight_cli.synth.lowlight import CASTS, cast, darken, uniform
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


EXPOSURES = ("dark", "mild", "identity")
"""What a pair's low image is: the paper's darkening, a mild under-exposure, or the photo itself."""


def sample_params(rng: np.random.Generator, settings: SynthSettings) -> dict:
    """Draw the per-image parameters in a fixed order, so a seed always gives the same values.

    Every draw is made whether or not it is used, so changing one share never shifts the other draws.
    """
    st = settings
    u_exposure, u_cast, u_jpeg = (float(x) for x in rng.random(3))
    exposure = (
        "identity"
        if u_exposure < st.identity_share
        else "mild"
        if u_exposure < st.identity_share + st.mild_share
        else "dark"
    )
    p = {
        "exposure": exposure,
        "alpha": uniform(rng, st.alpha),
        "beta": uniform(rng, st.mild_beta if exposure == "mild" else st.beta),
        "gamma": uniform(rng, st.mild_gamma if exposure == "mild" else st.gamma),
        "cast": sorted(CASTS)[int(rng.integers(len(CASTS)))] if u_cast < st.cast_share else None,
        "cast_strength": uniform(rng, st.cast_strength),
        "sigma_s": uniform(rng, st.sigma_s),
        "sigma_c": uniform(rng, st.sigma_c),
        "sigma_row": uniform(rng, st.sigma_row),
        "crf_gamma": uniform(rng, st.crf_gamma),
        "bayer": sorted(BAYER)[int(rng.integers(len(BAYER)))],
        "jpeg_quality": int(round(uniform(rng, st.jpeg_quality))) if u_jpeg < st.jpeg_share else None,
    }
    if st.ratio_darkening_share > 0:  # a last draw, and only when used: older data keeps its stream
        p["keep_ratios"] = bool(rng.random() < st.ratio_darkening_share) and exposure != "identity"
    if exposure == "identity":
        p.update(alpha=1.0, beta=1.0, gamma=1.0)
    if p["cast"] is None:
        p["cast_strength"] = 0.0
    return p


def synthesize(
    high: np.ndarray,
    rng: np.random.Generator,
    settings: SynthSettings,
    quantize: bool = False,
    amplify: bool = True,
) -> Pair:
    """Darken `high` (float32 HxWx3 in [0, 1]), tint it, add camera noise and build the targets.

    With `quantize`, the low images are rounded to 8 bits before the noise map is taken, so the stored
    files satisfy low = low_clean + noise exactly as the loader will read them. `amplify=False` skips the
    costly contrast-amplified target (it is then `high`), for training runs that do not use it.
    """
    from lowlight_cli.synth.noise import to_uint8

    p = sample_params(rng, settings)
    low_clean = (
        darken(high, p["alpha"], p["beta"], p["gamma"], p.get("keep_ratios", False))
        if p["exposure"] != "identity"
        else high.copy()
    )
    if p["cast"]:
        low_clean = cast(low_clean, p["cast"], p["cast_strength"], p["crf_gamma"])
    low = camera_noise(
        low_clean,
        rng,
        p["sigma_s"],
        p["sigma_c"],
        p["crf_gamma"],
        p["bayer"],
        p["jpeg_quality"],
        p["sigma_row"],
        debias=settings.noise_debias,
    )
    if quantize:
        low_clean, low = (to_uint8(x).astype(np.float32) / 255.0 for x in (low_clean, low))
    amplified = (
        amplify_contrast(
            high,
            settings.exposures,
            settings.exposure_gamma,
            settings.detail_sigma_s,
            settings.detail_sigma_r,
        )
        if amplify
        else high
    )
    return Pair(high, low, low_clean, attention_map(high, low_clean), noise_map(low, low_clean), amplified, p)
