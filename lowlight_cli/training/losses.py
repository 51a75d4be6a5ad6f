"""AgLLNet's training losses (spec section 3): L = w_a L_a + w_n L_n + w_e L_e + w_r L_r.

The paper gives the terms but none of the weights; the defaults below follow the MBLLEN predecessor's
balance (MAE + SSIM + VGG/3 + region) and are options of `lowlight train` (`--set losses.NAME=VALUE`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import torch
import torch.nn.functional as F
from pydantic import ConfigDict, Field
from torch import nn

from lowlight_cli.colour import LUMA

if TYPE_CHECKING:
    from lowlight_cli.training.vgg import VGGFeatures

TERMS = ("attention", "noise", "enhance", "reinforce")
"""The four top-level terms; a training stage picks the ones it optimises."""
NonNegative = Annotated[float, Field(ge=0)]


@dataclass(frozen=True)
class LossWeights:
    """Weight of every loss term (0 switches a term off)."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    attention: NonNegative = 1.0
    """w_a: L2 between predicted and ground-truth attention maps."""
    attention_gain: NonNegative = 0.0
    """Ours: added to the attention term, L1 between the predicted and true prior log-gains -log(1 - A). The
    L2 on A barely tells 0.9 from 0.98, which is a gain of 10 against 50: this scores the map where it matters
    for a network whose brightening starts from the prior gain 1 / (1 - A) (AgLLNet-Lite). 0: off."""
    noise: NonNegative = 1.0
    """w_n: L1 between the Noise-Net output and |noise| (the Noise-Net ends in ReLU, spec 1.6)."""
    enhance: NonNegative = 1.0
    """w_e: on the Enhancement-Net output E against the normal image."""
    reinforce: NonNegative = 1.0
    """w_r: on the Reinforce-Net output R against the reinforce target."""
    bright: NonNegative = 1.0
    """w_eb = w_rb: the asymmetric L1 term."""
    under: NonNegative = 2.0
    """lambda > 1 of S(x): how much more an under-brightened pixel costs than an over-brightened one."""
    structural: NonNegative = 1.0
    """w_es = w_rs: 1 - SSIM (11x11 Gaussian window, sigma 1.5, per channel; torchmetrics)."""
    perceptual: NonNegative = 1.0 / 3.0
    """w_ep = w_rp: L1 between VGG-19 relu3_4 features (dropped when no VGG weights are available)."""
    region: NonNegative = 1.0
    """w_er: L1 + (1 - SSIM) on images weighted by the predicted attention map (enhancement only)."""
    # Ours, beyond the paper: terms against haze and blur that need no VGG weights (0: off). Each applies
    # wherever `image_loss` does (the enhancement and reinforce terms).
    gradient: NonNegative = 0.0
    """L1 between the horizontal and vertical differences of prediction and target: edges and fine detail."""
    frequency: NonNegative = 0.0
    """L1 between the amplitude spectra (orthonormal 2-D FFT): the high frequencies an average blurs away."""
    exposure_normalised: NonNegative = 0.0
    """L1 after scaling the prediction to the target's mean grey (per image, the scale held fixed): the
    restoration scored apart from the exposure chosen."""
    black: NonNegative = 0.0
    """Lifted blacks: mean amount by which the prediction's luma exceeds the target's where the target is
    darker than `black_below`, weighted by how dark it is there."""
    black_below: Annotated[float, Field(gt=0, le=1)] = 0.1
    """sRGB luma under which a target pixel counts as black for the `black` term (0.1 is about L* 10)."""


def attention_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(pred, target)


GAIN_CAP = 1e-2
"""`attention_gain_loss` caps the prior gain 1 / (1 - A) at 1 / GAIN_CAP = 100 on both sides."""


def attention_gain_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between the log prior gains -log(1 - A) of the predicted and true maps (each capped at 100x)."""
    log_gain = lambda a: -torch.log((1 - a).clamp(min=GAIN_CAP))  # noqa: E731
    return F.l1_loss(log_gain(pred), log_gain(target))


def noise_loss(
    pred: torch.Tensor, signed_noise: torch.Tensor, known: torch.Tensor | None = None, signed: bool = False
) -> torch.Tensor:
    """The Noise-Net predicts a magnitude (ReLU output), so it is compared with |low - low_clean|; a network
    whose estimate is signed (`signed`, AgLLNet-Lite) is compared with low - low_clean itself.

    `known` (N x 1) masks out samples whose noise is unknown (real pairs); the mean runs over the rest.
    """
    error = (
        (pred - signed_noise.abs()).abs().flatten(1).mean(1)
        if not signed
        else (pred - signed_noise).abs().flatten(1).mean(1)
    )
    if known is None:
        return error.mean()
    known = known.flatten().to(error.dtype)
    return (error * known).sum() / known.sum().clamp(min=1)


def bright_loss(pred: torch.Tensor, target: torch.Tensor, under: float) -> torch.Tensor:
    """mean S(pred - target) with S(x) = x for x >= 0 and -under * x below:
    darker than the target costs more."""
    diff = pred - target
    return torch.where(diff >= 0, diff, -under * diff).mean()


SSIM_SIGMA, SSIM_SIZE = 1.5, 11
"""The SSIM window of torchmetrics' defaults (the evaluation's SSIM)."""


def _gaussian_matrix(n: int, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(_gaussian_matrix_np(n)).to(like.device, like.dtype)


@functools.lru_cache(maxsize=16)
def _gaussian_matrix_np(n: int):
    """(n, n) matrix M such that M @ v is v filtered by the SSIM window along one axis, reflect-padded
    (torch's "reflect": index -1 reads 1): the separable filter as two matrix products, which a CPU's BLAS
    runs several times faster than the depthwise convolutions of torchmetrics."""
    import numpy as np

    taps = np.arange(SSIM_SIZE) - (SSIM_SIZE - 1) // 2
    g = np.exp(-(taps.astype(np.float64) ** 2) / (2 * SSIM_SIGMA**2))
    g /= g.sum()
    m = np.zeros((n, n))
    for i in range(n):
        for t, w in zip(taps, g, strict=True):
            j = abs(i + t)
            j = 2 * (n - 1) - j if j > n - 1 else j
            m[i, j] += w
    return m


def ssim(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean SSIM over the batch (data range 1): torchmetrics' `structural_similarity_index_measure`
    (11x11 Gaussian window, sigma 1.5, reflect padding), the window applied as matrix products
    (equal to torchmetrics within 1e-5: tests/test_losses.py; needs sides of at least 6 pixels)."""
    h, w = pred.shape[-2:]
    stack = torch.cat([pred, target, pred * pred, target * target, pred * target])
    stack = _gaussian_matrix(h, stack) @ stack @ _gaussian_matrix(w, stack).T
    mu_p, mu_t, pp, tt, pt = stack.split(pred.shape[0])
    c1, c2 = 0.01**2, 0.03**2
    var_p = (pp - mu_p * mu_p).clamp(min=0)
    var_t = (tt - mu_t * mu_t).clamp(min=0)
    cov = pt - mu_p * mu_t
    index = ((2 * mu_p * mu_t + c1) * (2 * cov + c2)) / ((mu_p**2 + mu_t**2 + c1) * (var_p + var_t + c2))
    return index.mean()


def structural_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - mean SSIM (`ssim`: the evaluation's torchmetrics SSIM, computed separably)."""
    return 1.0 - ssim(pred, target)


def _luma(x: torch.Tensor) -> torch.Tensor:
    """Rec.601 luma (N, 1, H, W) with the project's one definition, `lowlight_cli.colour.LUMA`."""
    r, g, b = (float(w) for w in LUMA)
    return r * x[:, 0:1] + g * x[:, 1:2] + b * x[:, 2:3]


def gradient_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between finite differences along both axes."""
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]  # noqa: E731
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]  # noqa: E731
    return F.l1_loss(dx(pred), dx(target)) + F.l1_loss(dy(pred), dy(target))


def frequency_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 between the amplitudes of the orthonormal 2-D FFT (so the value does not grow with the crop)."""
    amp = lambda t: torch.fft.rfft2(t.float(), norm="ortho").abs()  # noqa: E731
    return F.l1_loss(amp(pred), amp(target))


def exposure_normalised_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 after scaling each predicted image to the target's mean (the GT-mean convention of KinD/LLFlow)."""
    scale = (
        target.mean((1, 2, 3), keepdim=True) / pred.mean((1, 2, 3), keepdim=True).clamp(min=1e-4)
    ).detach()
    return F.l1_loss(pred * scale, target)


def black_loss(pred: torch.Tensor, target: torch.Tensor, below: float) -> torch.Tensor:
    """How far the prediction lifts the target's blacks: relu(Y_pred - Y_target), weighted by
    (1 - Y_target / below) where the target's luma is under `below`, averaged over those weights."""
    yt = _luma(target)
    weight = (1 - yt / below).clamp(min=0)
    lifted = F.relu(_luma(pred) - yt)
    return (lifted * weight).sum() / weight.sum().clamp(min=1.0)


def region_loss(pred: torch.Tensor, target: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """Attention-weighted L1 + (1 - SSIM); the map is detached so this term cannot shrink the attention."""
    a = attention.detach()
    return F.l1_loss(pred * a, target * a) + structural_loss(pred * a, target * a)


class AgLLNetLoss(nn.Module):
    """All terms of the total loss; `forward` returns the weighted total and each term for logging."""

    def __init__(self, weights: LossWeights, vgg: VGGFeatures | None = None) -> None:
        super().__init__()
        self.w = weights
        self.vgg = vgg

    def image_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Bright + structural + perceptual: shared by the enhancement and reinforce losses."""
        w = self.w
        loss = w.bright * bright_loss(pred, target, w.under) + w.structural * structural_loss(pred, target)
        if self.vgg is not None and w.perceptual:
            loss = loss + w.perceptual * F.l1_loss(self.vgg(pred), self.vgg(target))
        if w.gradient:
            loss = loss + w.gradient * gradient_loss(pred, target)
        if w.frequency:
            loss = loss + w.frequency * frequency_loss(pred, target)
        if w.exposure_normalised:
            loss = loss + w.exposure_normalised * exposure_normalised_loss(pred, target)
        if w.black:
            loss = loss + w.black * black_loss(pred, target, w.black_below)
        return loss

    def forward(
        self,
        preds: Mapping[str, torch.Tensor],
        batch: Mapping[str, torch.Tensor],
        terms: tuple[str, ...] = TERMS,
        reinforce_target: str = "amplified",
    ) -> dict[str, torch.Tensor]:
        """Weighted sum of the selected `terms` (see TERMS) under "total", each unweighted term by name.

        `preds` holds the network outputs by `AgLLNetOutput` field name (attention, noise, enhanced,
        result); `batch` the training targets by data-loader key. The reinforce term scores `result`: the
        Reinforce-Net's output, or with `AgLLNetConfig.attention_gate` its gated blend with the input under
        the crop's own map (the gate's weight passes gradients to the Attention-Net too). That is what
        inference returns when `attention_gate_blur` is 0; with a blur, inference gates on the whole image's
        blurred map.
        """
        w = self.w
        parts: dict[str, torch.Tensor] = {}
        if "attention" in terms and w.attention:
            parts["attention"] = attention_loss(preds["attention"], batch["attention"])
            if w.attention_gain:
                parts["attention"] = parts["attention"] + w.attention_gain * attention_gain_loss(
                    preds["attention"], batch["attention"]
                )
        if "noise" in terms and w.noise and ("noise" in preds or "noise_signed" in preds):
            signed = "noise_signed" in preds
            parts["noise"] = noise_loss(
                preds["noise_signed" if signed else "noise"],
                batch["noise"],
                batch.get("noise_known"),
                signed=signed,
            )
        if "enhance" in terms and w.enhance:
            parts["enhance"] = self.image_loss(preds["enhanced"], batch["high"])
            if w.region:
                parts["enhance"] = parts["enhance"] + w.region * region_loss(
                    preds["enhanced"], batch["high"], preds["attention"]
                )
        if "reinforce" in terms and w.reinforce:
            parts["reinforce"] = self.image_loss(preds["result"], batch[reinforce_target])
        if not parts:
            raise ValueError(f"no loss term is active for {terms} with weights {w}")
        parts["total"] = sum(getattr(w, name) * value for name, value in parts.items())
        return parts
