"""Full-reference image metrics on (N, 3, H, W) tensors in [0, 1], from torchmetrics."""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Optional

import torch


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    from torchmetrics.functional.image import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(pred, target, data_range=1.0))


def ssim(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Gaussian 11x11, sigma 1.5 (the standard SSIM of Wang et al.)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    return float(structural_similarity_index_measure(pred, target, data_range=1.0))


@lru_cache(maxsize=1)
def lpips_metric() -> Optional[Callable[[torch.Tensor, torch.Tensor], float]]:
    """LPIPS (AlexNet) when torchvision and its pretrained backbone are available locally, else None.

    torchmetrics ships the LPIPS heads but takes the backbone from torchvision's download cache; without
    it (no torchvision, or offline) the figure is reported as n/a rather than computed with random weights.
    """
    try:
        from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

        metric = LearnedPerceptualImagePatchSimilarity(net_type="alex", normalize=True).eval()
    except Exception:  # ImportError, or the backbone download failing offline
        return None

    def score(pred: torch.Tensor, target: torch.Tensor) -> float:
        with torch.no_grad():
            return float(metric(pred, target))

    return score
