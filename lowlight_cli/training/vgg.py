"""VGG-19 features for the perceptual loss, in plain torch (no torchvision needed).

The layer names match torchvision's `vgg19().features`, so a safetensors conversion of the ImageNet
weights loads as is. The loss uses relu3_4 (Keras `block3_conv4`), as the AgLLNet predecessor did.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

RELU3_4 = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256)
"""VGG-19 convolution widths ("M": 2x2 max-pool) up to block 3's last convolution."""
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGGFeatures(nn.Module):
    """RGB in [0, 1] -> VGG-19 relu3_4 features; frozen, ImageNet-normalised inside."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for width in RELU3_4:
            if width == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(cin, int(width), 3, padding=1), nn.ReLU(inplace=True)]
                cin = int(width)
        self.features = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features((x - self.mean) / self.std)


def vgg_file(source: str) -> Path:
    """A local path, or `hf://owner/repo[@revision]/file` fetched through the Hugging Face cache."""
    from lowlight_cli.weights.hub import PREFIX, download, parse_ref

    if not source.startswith(PREFIX):
        return Path(source).expanduser()
    ref = parse_ref(source)
    return download(ref, ref.filename)


def load_vgg(source: str | None) -> VGGFeatures | None:
    """ImageNet VGG-19 features from a safetensors file, or None (with a warning) when unavailable.

    A randomly initialised VGG would make the perceptual term noise, so without weights it is dropped.
    """
    if not source:
        warnings.warn(
            "no VGG-19 weights given (vgg_weights): training without the perceptual loss", stacklevel=2
        )
        return None
    try:
        from safetensors.torch import load_file

        state = load_file(str(vgg_file(source)))
    except Exception as exc:  # offline Hub, missing or damaged file: all mean "train without the term"
        warnings.warn(
            f"VGG-19 weights {source!r} unavailable ({exc}): training without the perceptual loss",
            stacklevel=2,
        )
        return None
    model = VGGFeatures()
    wanted = model.state_dict().keys()
    missing = [k for k in wanted if k not in state]
    if missing:
        warnings.warn(
            f"{source}: not VGG-19 features (missing {missing[:3]}): training without the perceptual loss",
            stacklevel=2,
        )
        return None
    model.load_state_dict({k: state[k] for k in wanted})
    return model
