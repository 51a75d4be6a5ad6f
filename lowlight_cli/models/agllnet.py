"""AgLLNet (Lv, Li & Lu, IJCV 2021): Attention-Net, optional Noise-Net, Enhancement-Net, Reinforce-Net.

The network splits into a *global* stage (the attention map, whose U-Net downsamples by 128 and so sees
the whole image) and *local* stages (everything else, with a bounded receptive field). Inference exploits
this: the attention map is computed once per image and the local stages run tile by tile.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lowlight_cli.models.branches import build_branch
from lowlight_cli.models.config import AgLLNetConfig
from lowlight_cli.models.gate import gated
from lowlight_cli.models.layers import CAN, Down, conv


@dataclass
class AgLLNetOutput:
    """Named outputs (N, C, H, W); images are not clipped, as in the released model."""

    attention: torch.Tensor
    brightened: torch.Tensor
    enhanced: torch.Tensor
    reinforced: torch.Tensor
    result: torch.Tensor
    """What training scores: `reinforced`, or with `config.attention_gate` its blend with the input under this
    crop's own (unblurred) map. Inference gates the whole stitched image instead, with the map blurred by
    `config.attention_gate_blur` (`inference.whole_image_gate`); the two agree when that blur is 0."""
    noise: torch.Tensor | None = None


class AttentionNet(nn.Module):
    """U-Net predicting the under-exposure attention map A in [0, 1] (large where the image is dark)."""

    def __init__(self, channels: tuple[int, ...]) -> None:
        super().__init__()
        widths = (3, *channels)
        self.down = nn.ModuleList(Down(widths[i], widths[i + 1]) for i in range(len(channels)))
        # Decoder stage: upsample x2, conv to the width of the encoder feature at that level, concatenate it.
        self.up = nn.ModuleList()
        cin = channels[-1]
        for skip in channels[-2::-1]:
            self.up.append(conv(cin, skip))
            cin = 2 * skip
        self.head = conv(cin, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        for layer in self.down:
            x = F.relu(layer(x))
            feats.append(x)
        y = feats.pop()
        for layer in self.up:
            y = F.relu(layer(F.interpolate(y, scale_factor=2.0, mode="nearest")))
            y = torch.cat([y, feats.pop()], 1)
        return torch.sigmoid(self.head(F.interpolate(y, scale_factor=2.0, mode="nearest")))


class NoiseNet(nn.Module):
    """Paper variant: predicts a non-negative 3-channel noise map from the dark image and the attention
    map."""

    def __init__(self, width: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.can = CAN(4, width, dilations)

    def forward(self, image: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        return F.relu(self.can(torch.cat([image, attention], 1)))


class EnhancementNet(nn.Module):
    """Feature-extraction chain (FEM) feeding one enhancement module (EM) per layer, fused by a 1x1 conv."""

    def __init__(self, cfg: AgLLNetConfig) -> None:
        super().__init__()
        cin = 6 if cfg.noise_net else 3
        w = cfg.fem_channels
        self.fem = nn.ModuleList(conv(cin if i == 0 else w, w) for i in range(cfg.fem_layers))
        self.branch_attention = cfg.branch_attention
        self.branches = nn.ModuleList(
            build_branch(kind, w + int(att), cfg.can_channels, cfg.can_dilations)
            for kind, att in zip(cfg.branches, cfg.branch_attention, strict=True)
        )
        self.fusion = nn.Conv2d(1 + 3 * cfg.fem_layers, 3, 1)

    def forward(self, x: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        outs = [attention]
        for layer, branch, with_att in zip(self.fem, self.branches, self.branch_attention, strict=True):
            x = F.relu(layer(x))
            outs.append(branch(torch.cat([attention, x], 1) if with_att else x))
        return self.fusion(torch.cat(outs, 1))


class AgLLNet(nn.Module):
    """The full network. `forward` returns every stage's output by name (see `AgLLNetOutput`)."""

    def __init__(self, config: AgLLNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or AgLLNetConfig()
        cfg = self.config
        self.attention_net = AttentionNet(cfg.attention_channels)
        self.noise_net = NoiseNet(cfg.noise_channels, cfg.noise_dilations) if cfg.noise_net else None
        self.enhancement_net = EnhancementNet(cfg)
        self.reinforce_net = CAN(3, cfg.can_channels, cfg.can_dilations)

    def attention(self, image: torch.Tensor) -> torch.Tensor:
        """Global stage: (N,3,H,W) -> (N,1,H,W); H, W multiples of `config.attention_multiple`."""
        return self.attention_net(image)

    def local(self, image: torch.Tensor, attention: torch.Tensor) -> AgLLNetOutput:
        """Local stages given an attention map; H, W multiples of `config.local_multiple`."""
        brightened = image / (self.config.brighten_offset - attention)
        noise = self.noise_net(image, attention) if self.noise_net is not None else None
        fem_in = brightened if noise is None else torch.cat([brightened, noise], 1)
        enhanced = self.enhancement_net(fem_in, attention)
        reinforced = self.reinforce_net(enhanced)
        gate = self.config.attention_gate
        result = reinforced if gate is None else gated(image, reinforced, attention, gate)
        return AgLLNetOutput(attention, brightened, enhanced, reinforced, result, noise)

    def forward(self, image: torch.Tensor) -> AgLLNetOutput:
        return self.local(image, self.attention(image))
