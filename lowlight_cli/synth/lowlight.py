"""Low-light transform (spec 1.2): I_out = beta * (alpha * I_in) ** gamma, one triple per image; and the
illuminant colour casts that the synthesis puts on some low images."""

from __future__ import annotations

import numpy as np

from lowlight_cli.colour import LUMA
from lowlight_cli.synth.settings import Range


def uniform(rng: np.random.Generator, bounds: Range) -> float:
    """One draw from U(low, high), rounded so the value written to the manifest is the value used."""
    return round(float(rng.uniform(*bounds)), 6)


def darken(rgb: np.ndarray, alpha: float, beta: float, gamma: float, keep_ratios: bool = False) -> np.ndarray:
    """Darken float32 RGB in [0, 1]; the same (alpha, beta, gamma) for all three channels.

    The paper applies the curve to each channel, which raises saturation: at the same mean luma such a low
    image has about twice the chroma of a real exposure drop (docs/synth.md#ratio-darkening). With
    `keep_ratios` the curve is applied to the luma and every pixel is scaled by it, keeping its R:G:B ratios
    as less light would.
    """
    if not keep_ratios:
        return (beta * np.power(alpha * rgb, gamma)).astype(np.float32)
    y = rgb @ LUMA
    gain = beta * np.power(alpha * y, gamma) / np.maximum(y, 1e-6)
    return np.clip(rgb * gain[..., None], 0.0, 1.0).astype(np.float32)


CASTS: dict[str, tuple[float, float, float]] = {
    "tungsten": (1.0, 0.72, 0.42),
    "sodium": (1.0, 0.62, 0.20),
    "fluorescent": (0.80, 1.0, 0.75),
    "led-blue": (0.65, 0.82, 1.0),
    "lol-red": (1.0, 0.17, 0.085),
}
"""Illuminant gains (R, G, B) in linear light, relative to a neutral (white-balanced) capture. The first
four are typical of the light sources at night: warm tungsten (~2800 K), orange low-pressure sodium street
light, green-tinted fluorescent tubes and cool LED. `lol-red` is the median of mean(low)/mean(high) per
channel in linear light over the 120 pairs of ../shared/data/lol_train: the cast of real LOL-style shots."""


def cast(rgb: np.ndarray, name: str, strength: float, crf_gamma: float = 2.2) -> np.ndarray:
    """Tint sRGB `rgb` with `strength` (0-1) of illuminant `name`, keeping the mean luma of a grey pixel.

    The gain is applied in linear light (sRGB ** crf_gamma), so in sRGB it is gain ** (1 / crf_gamma).
    """
    gain = 1 + strength * (np.asarray(CASTS[name], np.float32) - 1)
    gain = gain / float(gain @ LUMA)
    return np.clip(rgb * np.power(gain, 1 / crf_gamma), 0, 1).astype(np.float32)
