"""Training targets derived from a pair: attention map (spec 1.5), noise map (1.6), amplified target (1.4)."""

from __future__ import annotations

import numpy as np

EPS = 1e-4
"""Added to max_c(GT) so black pixels give A = 0 instead of 0/0."""
NOISE_SCALE = 65535 / 2
"""Noise maps are stored as 16-bit PNG: v = round((n + 1) * NOISE_SCALE),
so n in [-1, 1] is lossless to 2e-5."""


def attention_map(high: np.ndarray, low_clean: np.ndarray) -> np.ndarray:
    """A = |max_c(high) - max_c(low)| / (max_c(high) + eps), HxW float32 in [0, 1], on the clean low image."""
    hi = high.max(axis=2)
    lo = low_clean.max(axis=2)
    return np.clip(np.abs(hi - lo) / (hi + EPS), 0, 1).astype(np.float32)


def noise_map(low: np.ndarray, low_clean: np.ndarray) -> np.ndarray:
    """Signed noise N = low - low_clean, HxWx3 float32 in [-1, 1] (the spec's |N| loses the sign)."""
    return (low - low_clean).astype(np.float32)


def encode_noise(noise: np.ndarray) -> np.ndarray:
    return np.round((np.clip(noise, -1, 1) + 1) * NOISE_SCALE).astype(np.uint16)


def decode_noise(stored: np.ndarray) -> np.ndarray:
    return (stored.astype(np.float32) / NOISE_SCALE - 1).astype(np.float32)


def amplify_contrast(
    high: np.ndarray, exposures: int, gamma_range: tuple[float, float], sigma_s: float, sigma_r: float
) -> np.ndarray:
    """Reinforce-Net target: Mertens fusion of `exposures` gamma-exposed copies, then detail boost.

    The exposures I ** g (g log-spaced over `gamma_range`) span brightened to darkened versions;
    fusing them lifts shadows and tames highlights. cv2.detailEnhance (domain-transform edge-preserving
    filter) then splits base and detail and amplifies the detail, standing in for the paper's L0 smoothing;
    the fused image's chroma is then restored to the photo's (`restore_chroma`).
    """
    import cv2

    from lowlight_cli.synth.noise import to_uint8

    stack = [to_uint8(np.power(high, g)) for g in np.geomspace(*gamma_range, exposures)]
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # multi-threaded MergeMertens sums in a varying order: not reproducible
    try:
        fused = cv2.createMergeMertens().process(stack)
    finally:
        cv2.setNumThreads(threads)
    # detailEnhance works in Lab and expects BGR; Mertens is symmetric in the channels
    boosted = cv2.detailEnhance(to_uint8(fused)[..., ::-1].copy(), sigma_s=sigma_s, sigma_r=sigma_r)
    return restore_chroma(high, boosted[..., ::-1].astype(np.float32) / 255.0)


def restore_chroma(reference: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Scale the CIELAB a*, b* of `image` so its mean chroma equals `reference`'s.

    Exposure fusion averages differently exposed copies and so desaturates (median chroma 0.965x the normal
    photo's, 0.89x for a tenth of the photos, on the look benchmark's validation pairs): the target of
    Reinforce-Net should be as colourful as the photo it comes from.
    """
    import cv2

    from lowlight_cli.colour import lab, mean_chroma

    ref, out = lab(reference), lab(image)
    if mean_chroma(out) > 1e-3:
        out[..., 1:] *= mean_chroma(ref) / mean_chroma(out)
    return np.clip(cv2.cvtColor(out, cv2.COLOR_Lab2RGB), 0, 1).astype(np.float32)
