"""Low-light transform (spec 1.2): I_out = beta * (alpha * I_in) ** gamma, one triple per image."""

from __future__ import annotations

import numpy as np

from lowlight_cli.synth.settings import Range


def uniform(rng: np.random.Generator, bounds: Range) -> float:
    """One draw from U(low, high), rounded so the value written to the manifest is the value used."""
    return round(float(rng.uniform(*bounds)), 6)


def darken(rgb: np.ndarray, alpha: float, beta: float, gamma: float) -> np.ndarray:
    """Darken float32 RGB in [0, 1]; the same (alpha, beta, gamma) for all three channels."""
    return (beta * np.power(alpha * rgb, gamma)).astype(np.float32)
