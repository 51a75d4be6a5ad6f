"""AgLLNet's training losses (spec section 3): L = w_a L_a + w_n L_n + w_e L_e + w_r L_r.

The paper gives the terms but none of the weights; the defaults below follow the MBLLEN predecessor's
balance (MAE + SSIM + VGG/3 + region) and are options of `lowlight train` (`--set losses.NAME=VALUE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Mapping, Optional

import torch
import torch.nn.functional as F
from pydantic import ConfigDict, Field
from torch import nn

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


def attention_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(pred, target)


def noise_loss(pred: torch.Tensor, signed_noise: torch.Tensor, known: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The Noise-Net predicts a magnitude (ReLU output), so it is compared with |low - low_clean|.

    `known` (N x 1) masks out samples whose noise is unknown (real pairs); the mean runs over the rest.
    """
    error = (pred - signed_noise.abs()).abs().flatten(1).mean(1)
    if known is None:
        return error.mean()
    known = known.flatten().to(error.dtype)
    return (error * known).sum() / known.sum().clamp(min=1)


def bright_loss(pred: torch.Tensor, target: torch.Tensor, under: float) -> torch.Tensor:
    """mean S(pred - target) with S(x) = x for x >= 0 and -under * x below: darker than the target costs more."""
    diff = pred - target
    return torch.where(diff >= 0, diff, -under * diff).mean()


def structural_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - mean SSIM (11x11 Gaussian window, sigma 1.5), from torchmetrics like the evaluation's SSIM: one
    library for the metric and the loss; its functional form is differentiable."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    return 1.0 - structural_similarity_index_measure(pred, target, data_range=1.0)


def region_loss(pred: torch.Tensor, target: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """Attention-weighted L1 + (1 - SSIM); the map is detached so this term cannot shrink the attention."""
    a = attention.detach()
    return F.l1_loss(pred * a, target * a) + structural_loss(pred * a, target * a)


class AgLLNetLoss(nn.Module):
    """All terms of the total loss; `forward` returns the weighted total and each term for logging."""

    def __init__(self, weights: LossWeights, vgg: Optional[VGGFeatures] = None) -> None:
        super().__init__()
        self.w = weights
        self.vgg = vgg

    def image_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Bright + structural + perceptual: shared by the enhancement and reinforce losses."""
        w = self.w
        loss = w.bright * bright_loss(pred, target, w.under) + w.structural * structural_loss(pred, target)
        if self.vgg is not None and w.perceptual:
            loss = loss + w.perceptual * F.l1_loss(self.vgg(pred), self.vgg(target))
        return loss

    def forward(
        self, preds: Mapping[str, torch.Tensor], batch: Mapping[str, torch.Tensor], terms: tuple[str, ...] = TERMS,
        reinforce_target: str = "amplified",
    ) -> dict[str, torch.Tensor]:
        """Weighted sum of the selected `terms` (see TERMS) under "total", each unweighted term by name.

        `preds` holds the network outputs by `AgLLNetOutput` field name (attention, noise, enhanced,
        result); `batch` the training targets by data-loader key. The reinforce term scores `result`: the
        Reinforce-Net's output, or with `AgLLNetConfig.attention_gate` its gated blend with the input under the
        crop's own map (the gate's weight passes gradients to the Attention-Net too). That is what inference
        returns when `attention_gate_blur` is 0; with a blur, inference gates on the whole image's blurred map.
        """
        w = self.w
        parts: dict[str, torch.Tensor] = {}
        if "attention" in terms and w.attention:
            parts["attention"] = attention_loss(preds["attention"], batch["attention"])
        if "noise" in terms and w.noise and "noise" in preds:
            parts["noise"] = noise_loss(preds["noise"], batch["noise"], batch.get("noise_known"))
        if "enhance" in terms and w.enhance:
            parts["enhance"] = self.image_loss(preds["enhanced"], batch["high"])
            if w.region:
                parts["enhance"] = parts["enhance"] + w.region * region_loss(preds["enhanced"], batch["high"], preds["attention"])
        if "reinforce" in terms and w.reinforce:
            parts["reinforce"] = self.image_loss(preds["result"], batch[reinforce_target])
        if not parts:
            raise ValueError(f"no loss term is active for {terms} with weights {w}")
        parts["total"] = sum(getattr(w, name) * value for name, value in parts.items())
        return parts
