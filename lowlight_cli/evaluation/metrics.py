"""Full-reference image metrics on (N, 3, H, W) tensors in [0, 1], from torchmetrics.

PSNR and SSIM only. LPIPS is not reported: it needs a pretrained backbone that cannot be fetched offline,
and a column that is always "n/a" (or computed with random weights) would mislead.
"""

from __future__ import annotations

import numpy as np
import torch


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    from torchmetrics.functional.image import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(pred, target, data_range=1.0))


def psnr_images(pred: np.ndarray, target: np.ndarray) -> float:
    """`psnr` of two same-shape NumPy images (HxWx3 float in [0, 1]),
    as the measurement scripts compare them."""
    return psnr(
        torch.from_numpy(np.ascontiguousarray(pred, np.float32)),
        torch.from_numpy(np.ascontiguousarray(target, np.float32)),
    )


def ssim(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Gaussian 11x11, sigma 1.5 (the standard SSIM of Wang et al.)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    score = structural_similarity_index_measure(pred, target, data_range=1.0)
    assert isinstance(score, torch.Tensor)  # a tuple only with return_full_image=True
    return float(score)
