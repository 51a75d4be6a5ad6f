"""NIQE (Mittal, Soundararajan & Bovik, "Making a 'Completely Blind' Image Quality Analyzer", 2013): the
no-reference score low-light papers report on DICM, LIME, MEF, NPE and VV. Lower is better.

A NumPy/SciPy port of BasicSR's `basicsr/metrics/niqe.py` (version 1.4.2, Apache-2.0, (c) the BasicSR
authors), which reproduces the authors' MATLAB release: the Y channel of ITU-R BT.601 YCbCr rounded to
integers, 96x96 blocks without overlap, MSCN coefficients with the 7x7 Gaussian window, AGGD fits of them and
of their neighbour products, at full and half size (MATLAB's bicubic `imresize` with antialiasing), and the
distance of their multivariate Gaussian to the pristine model. The pristine model's parameters are data,
`niqe_pris_params.npz`, copied unchanged from BasicSR 1.4.2 (PyPI sdist, `basicsr/metrics/`); its licence is
in `NIQE_NOTICE.md` and `LICENSE-BasicSR.txt` beside it. tests/test_niqe.py checks this port against BasicSR's
own code.
"""

from __future__ import annotations

import functools
import math
import warnings
from pathlib import Path

import numpy as np

PARAMS = Path(__file__).with_name("niqe_pris_params.npz")
BLOCK = 96
Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0
"""ITU-R BT.601 luma of RGB in [0, 1], to the [16, 235] range (MATLAB's rgb2ycbcr, BasicSR's to_y_channel)."""


@functools.lru_cache(maxsize=1)
def _pristine() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = np.load(PARAMS)
    return data["mu_pris_param"], data["cov_pris_param"], data["gaussian_window"]


@functools.lru_cache(maxsize=1)
def _gamma_table() -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import gamma

    gam = np.arange(0.2, 10.001, 0.001)
    r = 1.0 / gam
    return gam, np.square(gamma(r * 2)) / (gamma(r) * gamma(r * 3))


def _aggd(block: np.ndarray) -> tuple[float, float, float]:
    """Asymmetric generalised Gaussian fit: (alpha, beta_left, beta_right)."""
    from scipy.special import gamma

    block = block.ravel()
    gam, r_gam = _gamma_table()
    left = np.sqrt(np.mean(block[block < 0] ** 2))
    right = np.sqrt(np.mean(block[block > 0] ** 2))
    gammahat = left / right
    rhat = np.mean(np.abs(block)) ** 2 / np.mean(block**2)
    rhatnorm = (rhat * (gammahat**3 + 1) * (gammahat + 1)) / ((gammahat**2 + 1) ** 2)
    alpha = gam[np.argmin((r_gam - rhatnorm) ** 2)]
    scale = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left * scale, right * scale


def _features(block: np.ndarray) -> list[float]:
    from scipy.special import gamma

    alpha, bl, br = _aggd(block)
    feat = [alpha, (bl + br) / 2]
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):
        alpha, bl, br = _aggd(block * np.roll(block, shift, axis=(0, 1)))
        feat += [alpha, (br - bl) * (gamma(2 / alpha) / gamma(1 / alpha)), bl, br]
    return feat


def _cubic(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    return (1.5 * a**3 - 2.5 * a**2 + 1) * (a <= 1) + (-0.5 * a**3 + 2.5 * a**2 - 4 * a + 2) * (
        (a > 1) & (a <= 2)
    )


def _half_matrix(n: int) -> np.ndarray:
    """(ceil(n/2), n) matrix of MATLAB's bicubic imresize by 0.5 with antialiasing, symmetric borders."""
    scale, out = 0.5, math.ceil(n * 0.5)
    width = 4 / scale
    x = np.arange(1, out + 1, dtype=np.float32)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    p = math.ceil(width) + 2
    idx = left[:, None] + np.arange(p, dtype=np.float32)[None]
    w = (scale * _cubic((u[:, None] - idx) * scale)).astype(np.float32)
    w = w / w.sum(1, keepdims=True)
    m = np.zeros((out, n), np.float64)
    for i in range(out):
        for j, weight in zip(idx[i].astype(int) - 1, w[i], strict=True):
            k = -j - 1 if j < 0 else 2 * n - j - 1 if j >= n else j
            m[i, k] += weight
    return m


def niqe_of_y(y: np.ndarray) -> float:
    """NIQE of a luma image (H, W) in [0, 255], already rounded (see `niqe`); NaN when fewer than two blocks
    have any structure (a flat or black image)."""
    from scipy.ndimage import convolve

    mu_p, cov_p, window = _pristine()
    h, w = y.shape
    nh, nw = h // BLOCK, w // BLOCK
    if nh < 1 or nw < 1:
        raise ValueError(f"NIQE needs at least {BLOCK}x{BLOCK} pixels, got {w}x{h}")
    img = y[: nh * BLOCK, : nw * BLOCK].astype(
        np.float32
    )  # float32 throughout, as BasicSR (smooth images differ)
    feats = []
    for scale in (1, 2):
        mu = convolve(img, window, mode="nearest")
        sigma = np.sqrt(np.abs(convolve(img**2, window, mode="nearest") - mu**2))
        mscn = (img - mu) / (sigma + 1)
        b = BLOCK // scale
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", RuntimeWarning
            )  # a flat block's fit is NaN, left out below (as BasicSR)
            feats.append(
                np.array(
                    [
                        _features(mscn[i * b : (i + 1) * b, j * b : (j + 1) * b])
                        for j in range(nw)
                        for i in range(nh)
                    ]
                )
            )
        if scale == 1:
            small = img / np.float32(255.0)
            mh, mw = (_half_matrix(n).astype(np.float32) for n in small.shape)
            img = (mh @ small @ mw.T) * np.float32(255.0)
    dist = np.concatenate(feats, axis=1)
    finite = dist[np.isfinite(dist).all(axis=1)]
    if len(finite) < 2:  # flat blocks (a black frame) have no natural-scene statistics to compare
        return float("nan")
    mu_d = np.nanmean(dist, axis=0)
    cov_d = np.cov(finite, rowvar=False)
    diff = (mu_p - mu_d).ravel()
    return float(np.sqrt(diff @ np.linalg.pinv((cov_p + cov_d) / 2) @ diff))


def niqe(rgb: np.ndarray) -> float:
    """NIQE of an HxWx3 sRGB image in [0, 1] (at least 96x96): lower is more natural."""
    y = np.clip(rgb, 0, 1).astype(np.float32) @ (Y_WEIGHTS * 255.0) + 16.0  # float64, as BasicSR
    return niqe_of_y(np.round(y))
