"""The five enhancement-module (EM) types. Each maps (N, cin, H, W) to a 3-channel map of the same size.

Layer registration order equals execution order: the ONNX importer relies on it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lowlight_cli.models.layers import CAN, Down, Up, conv, deconv


class UNetDilated(nn.Module):
    """EM#2/#3: U-Net with two stride-2 levels and dilated convs."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.c0 = conv(cin, 8)
        self.c1 = conv(8, 16, 5, dilation=2)
        self.d1 = Down(16, 32)
        self.c2 = conv(32, 32, dilation=2)
        self.d2 = Down(32, 32)
        self.c3 = conv(32, 32)
        self.u1 = Up(32, 32)
        self.u2 = Up(64, 16)
        self.out = conv(32, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = F.relu(self.c1(F.relu(self.c0(x))))
        s1 = F.relu(self.c2(F.relu(self.d1(s0))))
        y = F.relu(self.c3(F.relu(self.d2(s1))))
        y = torch.cat([F.relu(self.u1(y)), s1], 1)
        y = torch.cat([F.relu(self.u2(y)), s0], 1)
        return F.relu(self.out(y))


class ConvDeconv7(nn.Module):
    """EM#1 (MBLLEN's EM): three 7x7 valid convs then three 7x7 valid transposed convs, no skips."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            [
                conv(cin, 8),
                conv(8, 8, 7, valid=True),
                conv(8, 16, 7, valid=True),
                conv(16, 16, 7, valid=True),
                deconv(16, 16, 7),
                deconv(16, 8, 7),
                deconv(8, 3, 7),
            ]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = F.relu(layer(x))
        return x


class UNet5(nn.Module):
    """EM#2/#3: U-Net of 5x5 valid convs with skip connections."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.c0 = conv(cin, 8)
        self.c1 = conv(8, 8, 5, valid=True)
        self.c2 = conv(8, 16, 5, valid=True)
        self.c3 = conv(16, 16, 5, valid=True)
        self.u1 = deconv(16, 16, 5)
        self.u2 = deconv(32, 8, 5)
        self.u3 = deconv(16, 3, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v1 = F.relu(self.c1(F.relu(self.c0(x))))
        v2 = F.relu(self.c2(v1))
        y = F.relu(self.c3(v2))
        y = torch.cat([F.relu(self.u1(y)), v2], 1)
        y = torch.cat([F.relu(self.u2(y)), v1], 1)
        return F.relu(self.u3(y))


class ResBlock(nn.Module):
    """y = relu(x + conv(conv(x))), no activation between the two convs (as in the released graph)."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.c1 = conv(ch, ch)
        self.c2 = conv(ch, ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.c2(self.c1(x)))


class ResNetBranch(nn.Module):
    """EM#4: ResNet-like at quarter resolution, no batch norm."""

    def __init__(self, cin: int, blocks: int = 4) -> None:
        super().__init__()
        self.c0 = conv(cin, 8)
        self.d1 = Down(8, 16)
        self.d2 = Down(16, 32)
        self.blocks = nn.Sequential(*[ResBlock(32) for _ in range(blocks)])
        self.u1 = Up(32, 32)
        self.u2 = Up(32, 16)
        self.out = deconv(16, 3, 3, valid=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.d2(F.relu(self.d1(F.relu(self.c0(x))))))
        y = self.blocks(y)
        y = F.relu(self.u2(F.relu(self.u1(y))))
        return F.relu(self.out(y))


def build_branch(kind: str, cin: int, can_width: int, can_dilations: tuple[int, ...]) -> nn.Module:
    """One EM of the given type (see `lowlight_cli.models.config.BRANCH_TYPES`)."""
    if kind == "can":
        return CAN(cin, can_width, can_dilations)
    return {"unet_dilated": UNetDilated, "conv7": ConvDeconv7, "unet5": UNet5, "resnet": ResNetBranch}[kind](
        cin
    )
