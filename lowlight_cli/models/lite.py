"""AgLLNet-Lite: our CPU-sized network of the AgLLNet family (`LiteConfig`).

It keeps AgLLNet's ideas and moves the work to reduced resolution:

* **Attention-Net** (global stage): a small U-Net on the image average-pooled by `attention_pool`, its map
  upsampled back; it predicts AgLLNet's under-exposure map A (trained on the same ground truth).
* **Enhancement-Net** (local stage): a U-Net on the image, A and the prior-brightened image, space-to-depth by
  2 (no pixel is thrown away), three levels down to 1/8 resolution, with AgLLNet's multi-branch idea at the
  bottom (parallel dilated branches fused by a 1x1 conv). Its head, shuffled back to full size, gives per
  pixel and channel a signed **noise estimate** n (the Noise-Net's role; its local mean is removed, as camera
  noise has none) and a log-gain correction g.
* The enhancement itself is a **gain**: E = (I - n) * exp(M tanh((-log(1 - A) + g) / M)). The attention map
  sets the prior brightening I / (1 - A) of the released model; the network corrects it per pixel. A gain
  maps black to black, which is what keeps night skies dark where AgLLNet's additive branches lift them.
* **Reinforce-Net**: a small dilated-conv net at full size adding a residual to E (contrast and detail).

The local stages have a bounded receptive field (`LiteConfig.local_radius`, checked by a test) and downsample
by 8, so tiles aligned to multiples of 8 with that margin give the untiled result exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lowlight_cli.models.agllnet import AgLLNetOutput
from lowlight_cli.models.config import LiteConfig
from lowlight_cli.models.gate import gated

NOISE_MEAN_SIZE = 9
"""Window of the local mean taken out of the noise estimate."""


def _box_mean(x: torch.Tensor, size: int) -> torch.Tensor:
    """Mean over a size x size window (same size out, windows cut at the border), as two 1-D passes: the same
    numbers as one `avg_pool2d(count_include_pad=False)`, a fraction of its cost on a CPU."""
    pad = size // 2
    x = F.avg_pool2d(x, (size, 1), stride=1, padding=(pad, 0), count_include_pad=False)
    return F.avg_pool2d(x, (1, size), stride=1, padding=(0, pad), count_include_pad=False)


def _upsample(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Bilinear resize of x to ref's size (nearest would leave the coarse levels' blocks in flat skies)."""
    return F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation)


class LiteAttentionNet(nn.Module):
    """U-Net on the pooled image: (N,3,H,W) -> (N,1,H,W) in [0, 1], large where the image is dark."""

    def __init__(self, channels: tuple[int, ...], pool: int) -> None:
        super().__init__()
        self.pool = pool
        widths = (3, *channels)
        self.down = nn.ModuleList(_conv(widths[i], widths[i + 1], stride=2) for i in range(len(channels)))
        self.up = nn.ModuleList()
        cin = channels[-1]
        for skip in channels[-2::-1]:
            self.up.append(_conv(cin + skip, skip))
            cin = skip
        self.head = _conv(cin + 3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        small = F.avg_pool2d(x, self.pool) if self.pool > 1 else x
        feats = [small]
        y = small
        for layer in self.down:
            y = F.relu(layer(y))
            feats.append(y)
        feats.pop()
        for layer in self.up:
            skip = feats.pop()
            y = F.relu(layer(torch.cat([_upsample(y, skip), skip], 1)))
        skip = feats.pop()
        y = self.head(torch.cat([_upsample(y, skip), skip], 1))
        a = torch.sigmoid(y)
        return (
            F.interpolate(a, scale_factor=float(self.pool), mode="bilinear", align_corners=False)
            if self.pool > 1
            else a
        )


class LiteEnhancementNet(nn.Module):
    """Three-level U-Net at 1/2, 1/4 and 1/8 resolution; returns the full-size
    (noise, log-gain correction)."""

    def __init__(self, cfg: LiteConfig) -> None:
        super().__init__()
        w1, w2, w3 = cfg.widths
        self.enc1 = nn.ModuleList([_conv(4 * 7, w1), _conv(w1, w1)])
        self.enc2 = nn.ModuleList([_conv(w1, w2, stride=2), _conv(w2, w2)])
        self.enc3 = _conv(w2, w3, stride=2)
        self.branches = nn.ModuleList(_conv(w3, w3, dilation=d) for d in cfg.branch_dilations)
        self.fusion = nn.Conv2d(w3 * len(cfg.branch_dilations), w3, 1)
        self.dec2 = _conv(w3 + w2, w2)
        self.dec1 = _conv(w2 + w1, w1)
        self.head = _conv(w1, 4 * 6)
        for p in self.head.parameters():  # the head starts at zero: weight and bias
            nn.init.zeros_(p)

    def forward(
        self, image: torch.Tensor, attention: torch.Tensor, brightened: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.pixel_unshuffle(torch.cat([image, brightened.clamp(0, 1), attention], 1), 2)
        for layer in self.enc1:
            x = F.relu(layer(x))
        e1 = x
        for layer in self.enc2:
            x = F.relu(layer(x))
        e2 = x
        e3 = F.relu(self.enc3(x))
        b = e3 + F.relu(self.fusion(torch.cat([F.relu(branch(e3)) for branch in self.branches], 1)))
        d2 = F.relu(self.dec2(torch.cat([_upsample(b, e2), e2], 1)))
        d1 = F.relu(self.dec1(torch.cat([_upsample(d2, e1), e1], 1)))
        out = F.pixel_shuffle(self.head(d1), 2)
        noise = out[:, :3]
        # zero local mean, as camera noise (and the synthesis, `noise_debias`): the estimate can only take
        # grain out, never add a brightness offset that the gain would turn into lifted blacks
        noise = noise - _box_mean(noise, NOISE_MEAN_SIZE)
        return noise, out[:, 3:]


class LiteReinforceNet(nn.Module):
    """Full-size dilated convs adding a contrast/detail residual to the enhanced image (and its map)."""

    def __init__(self, width: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.body = nn.ModuleList([_conv(4, width)] + [_conv(width, width, dilation=d) for d in dilations])
        self.head = nn.Conv2d(width, 3, 1)
        for p in self.head.parameters():  # the head starts at zero: weight and bias
            nn.init.zeros_(p)

    def forward(self, enhanced: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        x = torch.cat([enhanced, attention], 1)
        for layer in self.body:
            x = F.relu(layer(x))
        return enhanced + self.head(x)


class AgLLNetLite(nn.Module):
    """The network; the same stage interface as `AgLLNet` (`attention`, `local`, `forward`)."""

    def __init__(self, config: LiteConfig | None = None) -> None:
        super().__init__()
        self.config = config or LiteConfig()
        cfg = self.config
        self.attention_net = LiteAttentionNet(cfg.attention_channels, cfg.attention_pool)
        self.noise_net = None
        """The noise estimate is a head of the Enhancement-Net (it shares its features)."""
        self.enhancement_net = LiteEnhancementNet(cfg)
        self.reinforce_net = LiteReinforceNet(cfg.reinforce_channels, cfg.reinforce_dilations)

    def attention(self, image: torch.Tensor) -> torch.Tensor:
        return self.attention_net(image)

    def local(self, image: torch.Tensor, attention: torch.Tensor) -> AgLLNetOutput:
        cfg = self.config
        prior = -torch.log(cfg.brighten_offset - attention)
        noise, correction = self.enhancement_net(image, attention, image * torch.exp(prior))
        gain = torch.exp(cfg.max_log_gain * torch.tanh((prior + correction) / cfg.max_log_gain))
        brightened = image * gain
        enhanced = (image - noise) * gain
        reinforced = self.reinforce_net(enhanced, attention)
        result = (
            reinforced
            if cfg.attention_gate is None
            else gated(image, reinforced, attention, cfg.attention_gate)
        )
        return AgLLNetOutput(attention, brightened, enhanced, reinforced, result, noise)

    def forward(self, image: torch.Tensor) -> AgLLNetOutput:
        return self.local(image, self.attention(image))
