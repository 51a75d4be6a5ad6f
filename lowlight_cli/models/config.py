"""One config object per architecture, saved as JSON next to the weights, so that a checkpoint rebuilds its
own net."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from lowlight_cli.errors import WeightsError

BRANCH_TYPES = ("can", "unet_dilated", "conv7", "unet5", "resnet")
"""The five enhancement-module (EM) types of the paper, in the released model's branch order."""


_Config = TypeVar("_Config", bound="JsonConfig")


class JsonConfig:
    """The JSON form shared by the architecture configs: their init fields, tuples as lists."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self) if f.init}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls: type[_Config], data: dict[str, Any]) -> _Config:
        known = {f.name for f in fields(cls) if f.init}  # type: ignore[arg-type]
        extra = set(data) - known
        if extra:
            raise WeightsError(f"config: unknown keys {sorted(extra)} (written by a newer lowlight?)")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True)
class AgLLNetConfig(JsonConfig):
    """Hyper-parameters of AgLLNet. The defaults are the authors' released model (spec section 2.2)."""

    arch: str = "agllnet"
    attention_channels: tuple[int, ...] = (8, 16, 32, 64, 64, 64, 64)
    """Encoder widths of the Attention-Net U-Net; one stride-2 level each, so inputs need multiples of
    2**len."""
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
    attention_gate: tuple[float, float] | None = None
    """Ours, beyond the paper: (low, high) thresholds of the attention map. Where A <= low the result is the
    input itself, where A >= high the network's, in between a smoothstep blend (`models.gate.gate_weight`).
    The Attention-Net's map says where the photo is under-exposed; the gate makes the network leave the rest
    alone (well-exposed photos, lit parts of night scenes). None (the paper, the release): no gate."""
    attention_gate_blur: float = 0.0
    """Ours: at inference the gate reads the whole image's attention map blurred by a Gaussian whose sigma is
    this share of the longer side (`inference.whole_image_gate`); it changes slowly across smooth regions (a
    sharp per-pixel gate leaves visible edges in twilight skies). 0: the per-pixel map. Training always uses
    the crop's own map."""
    notes: dict[str, Any] = field(default_factory=dict, compare=False)

    signed_noise = False
    """The Noise-Net predicts a magnitude (it ends in ReLU)."""

    def __post_init__(self) -> None:
        if len(self.branches) != self.fem_layers or len(self.branch_attention) != self.fem_layers:
            raise WeightsError(
                "config: branches and branch_attention need one entry per feature-extraction layer"
            )
        _check_gate(self.attention_gate, self.attention_gate_blur)
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


def _check_gate(gate: tuple[float, float] | None, blur: float) -> None:
    if gate is not None and not (len(gate) == 2 and 0 <= gate[0] < gate[1] <= 1):
        raise WeightsError(
            f"config: attention_gate {list(gate)} must be [low, high] with 0 <= low < high <= 1"
        )
    if not 0 <= blur <= 1:
        raise WeightsError(f"config: attention_gate_blur {blur} must lie in [0, 1]")


@dataclass(frozen=True)
class LiteConfig(JsonConfig):
    """Hyper-parameters of AgLLNet-Lite (`models.lite`), our CPU-sized network of the AgLLNet family."""

    arch: str = "agllnet-lite"
    attention_channels: tuple[int, ...] = (16, 24, 32, 32, 32)
    """Encoder widths of the Attention-Net U-Net, one stride-2 level each, on the image pooled by
    `attention_pool`."""
    attention_pool: int = 4
    widths: tuple[int, ...] = (24, 48, 64)
    """Enhancement-Net widths at 1/2, 1/4 and 1/8 resolution."""
    branch_dilations: tuple[int, ...] = (1, 2, 4)
    """One parallel branch per dilation at 1/8 resolution (AgLLNet's multi-branch enhancement)."""
    reinforce_channels: int = 12
    reinforce_dilations: tuple[int, ...] = (2, 4)
    max_log_gain: float = 4.0
    """The gain is exp of at most this (about 55x) in absolute value, softly (tanh)."""
    brighten_offset: float = 1.00001
    """The prior gain 1 / (offset - A), as AgLLNet's pre-brightening."""
    attention_gate: tuple[float, float] | None = None
    """As `AgLLNetConfig.attention_gate`."""
    attention_gate_blur: float = 0.0
    """As `AgLLNetConfig.attention_gate_blur`."""
    notes: dict[str, Any] = field(default_factory=dict, compare=False)

    noise_net = True
    """The noise estimate is always there (a head of the Enhancement-Net); signed, unlike AgLLNet's
    Noise-Net."""
    signed_noise = True

    def __post_init__(self) -> None:
        if len(self.widths) != 3:
            raise WeightsError(f"config: widths {list(self.widths)} must give three levels (1/2, 1/4, 1/8)")
        if not self.branch_dilations or min(self.branch_dilations) < 1:
            raise WeightsError(f"config: branch_dilations {list(self.branch_dilations)} must be positive")
        if self.attention_pool < 1 or not self.attention_channels:
            raise WeightsError("config: attention_pool must be at least 1 and attention_channels non-empty")
        _check_gate(self.attention_gate, self.attention_gate_blur)

    @property
    def attention_multiple(self) -> int:
        return self.attention_pool * 2 ** len(self.attention_channels)

    @property
    def local_multiple(self) -> int:
        """Space-to-depth by 2, then two stride-2 levels: tiles must start on multiples of 8."""
        return 8

    @property
    def local_radius(self) -> int:
        """Upper bound, in pixels, of the local stages' receptive field radius (checked by a test).

        Per layer: (kernel radius x dilation) x the level's stride; the space-to-depth adds 2, each bilinear
        upsampling one sample of the coarser level, the Reinforce-Net its own radius at full size.
        """
        enc = 2 * 2 + (2 + 4) + 4  # two convs at 1/2, stride-2 conv + conv at 1/4, stride-2 conv to 1/8
        bottom = 8 * max(self.branch_dilations)
        # upsample + conv at 1/4, upsample + conv at 1/2, head at 1/2, noise mean
        dec = (8 + 4) + (4 + 2) + 2 + 4
        reinforce = 1 + sum(self.reinforce_dilations)
        return 2 + enc + bottom + dec + reinforce


ARCHS: dict[str, type[AgLLNetConfig] | type[LiteConfig]] = {
    "agllnet": AgLLNetConfig,
    "agllnet-lite": LiteConfig,
}
"""Architecture name (the `arch` of a weights config) -> its config class."""


def config_from_dict(data: dict[str, Any]) -> AgLLNetConfig | LiteConfig:
    """The config a weights `config.json` describes, by its `arch` (AgLLNet when absent)."""
    arch = data.get("arch", "agllnet")
    if arch not in ARCHS:
        raise WeightsError(f"config: unknown architecture {arch!r}; known: {', '.join(ARCHS)}")
    return ARCHS[arch].from_dict(data)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
