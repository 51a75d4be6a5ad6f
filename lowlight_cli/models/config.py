"""One config object per architecture, saved as JSON next to the weights so a checkpoint rebuilds its own net."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Optional

from lowlight_cli.errors import WeightsError

BRANCH_TYPES = ("can", "unet_dilated", "conv7", "unet5", "resnet")
"""The five enhancement-module (EM) types of the paper, in the released model's branch order."""


@dataclass(frozen=True)
class AgLLNetConfig:
    """Hyper-parameters of AgLLNet. The defaults are the authors' released model (spec section 2.2)."""

    arch: str = "agllnet"
    attention_channels: tuple[int, ...] = (8, 16, 32, 64, 64, 64, 64)
    """Encoder widths of the Attention-Net U-Net; one stride-2 level each, so inputs need multiples of 2**len."""
    fem_layers: int = 10
    fem_channels: int = 8
    branches: tuple[str, ...] = BRANCH_TYPES * 2
    """EM type fed by each feature-extraction layer (len == fem_layers)."""
    branch_attention: tuple[bool, ...] = (False,) * 5 + (True,) * 5
    """Whether each branch also receives the attention map."""
    can_channels: int = 24
    can_dilations: tuple[int, ...] = (2, 4, 8, 16, 32, 64)
    brighten_offset: float = 1.00001
    """X = I / (offset - A): the released graph's pre-brightening constant."""
    noise_net: bool = False
    """Paper variant: a Noise-Net predicts a noise map from (I, A) that is fed to the enhancement stage."""
    noise_channels: int = 24
    noise_dilations: tuple[int, ...] = (1, 2, 4, 8)
    attention_gate: Optional[tuple[float, float]] = None
    """Ours, beyond the paper: (low, high) thresholds of the attention map. Where A <= low the result is the
    input itself, where A >= high the network's, in between a smoothstep blend (`models.gate.gate_weight`).
    The Attention-Net's map says where the photo is under-exposed; the gate makes the network leave the rest
    alone (well-exposed photos, lit parts of night scenes). None (the paper, the release): no gate."""
    attention_gate_blur: float = 0.0
    """Ours: at inference the gate reads the whole image's attention map blurred by a Gaussian whose sigma is this
    share of the image's longer side (`inference.gate`), so it changes slowly across smooth regions (a sharp
    per-pixel gate leaves visible edges in twilight skies). 0: the per-pixel map. Training always uses the crop's
    own map."""
    notes: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.branches) != self.fem_layers or len(self.branch_attention) != self.fem_layers:
            raise WeightsError("config: branches and branch_attention need one entry per feature-extraction layer")
        gate = self.attention_gate
        if gate is not None and not (len(gate) == 2 and 0 <= gate[0] < gate[1] <= 1):
            raise WeightsError(f"config: attention_gate {list(gate)} must be [low, high] with 0 <= low < high <= 1")
        if not 0 <= self.attention_gate_blur <= 1:
            raise WeightsError(f"config: attention_gate_blur {self.attention_gate_blur} must lie in [0, 1]")
        unknown = set(self.branches) - set(BRANCH_TYPES)
        if unknown:
            raise WeightsError(f"config: unknown branch types {sorted(unknown)}; known: {BRANCH_TYPES}")

    @classmethod
    def official(cls) -> AgLLNetConfig:
        """The released AgLLNet (no Noise-Net)."""
        return cls()

    @classmethod
    def noise_variant(cls) -> AgLLNetConfig:
        """The paper's variant with a Noise-Net."""
        return cls(noise_net=True)

    @property
    def attention_multiple(self) -> int:
        """The Attention-Net's inputs must be multiples of this (it halves the size once per level)."""
        return 2 ** len(self.attention_channels)

    @property
    def local_multiple(self) -> int:
        """The local stages' inputs must be multiples of this (the U-Net-like branches downsample twice)."""
        return 4

    @property
    def local_radius(self) -> int:
        """Upper bound, in pixels, of the local stages' receptive field radius (tiling margin).

        The dilated CAN branches dominate: each sees 2 + sum(dilations) pixels to each side, once in the
        Enhancement-Net and once more in the Reinforce-Net; the feature-extraction chain adds one per layer
        and the Noise-Net its own radius. U-Net-like branches are bounded by 48 (checked by a test).
        """
        can = 2 + sum(self.can_dilations)
        branch = max(can if b == "can" else 48 for b in self.branches)
        noise = 2 + sum(self.noise_dilations) if self.noise_net else 0
        return noise + self.fem_layers + branch + can

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self) if f.init}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgLLNetConfig:
        known = {f.name: f for f in fields(cls) if f.init}
        extra = set(data) - set(known)
        if extra:
            raise WeightsError(f"config: unknown keys {sorted(extra)} (written by a newer lowlight?)")
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**kwargs)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
