"""Convolutions with the released Keras graph's padding rules (TF "same" and "valid")."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv(cin: int, cout: int, k: int = 3, dilation: int = 1, valid: bool = False) -> nn.Conv2d:
    """Stride-1 conv; "same" padding unless `valid` (then the map shrinks by dilation*(k-1))."""
    return nn.Conv2d(cin, cout, k, padding=0 if valid else dilation * (k - 1) // 2, dilation=dilation)


def deconv(cin: int, cout: int, k: int, valid: bool = True) -> nn.ConvTranspose2d:
    """Stride-1 transposed conv; "valid" grows the map by k-1, undoing a valid conv."""
    return nn.ConvTranspose2d(cin, cout, k, padding=0 if valid else (k - 1) // 2)


class Down(nn.Conv2d):
    """3x3 stride-2 conv with TF "same" padding on even inputs: one extra row/column at the end."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cin, cout, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (0, 1, 0, 1)))


class Up(nn.ConvTranspose2d):
    """3x3 stride-2 transposed conv with TF "same" output size: exactly twice the input."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cin, cout, 3, stride=2)

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        h, w = x.shape[-2:]
        return super().forward(x, output_size)[..., : 2 * h, : 2 * w]


class CAN(nn.Module):
    """Context-aggregation network (Chen et al. 2017): dilated 3x3 convs at full resolution,
    linear 1x1 head."""

    def __init__(self, cin: int, width: int, dilations: tuple[int, ...], cout: int = 3) -> None:
        super().__init__()
        self.body = nn.ModuleList(
            [conv(cin, width)] + [conv(width, width, dilation=d) for d in dilations] + [conv(width, width)]
        )
        self.head = nn.Conv2d(width, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.body:
            x = F.relu(layer(x))
        return self.head(x)
