"""`TrainConfig`: every setting of a training run, from a YAML file plus `key=value` overrides.

The resolved config is written to the run folder (config.yaml), so a run can always be reproduced and
`--resume` continues with the settings it started with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from lowlight_cli.errors import LowlightError
from lowlight_cli.training.losses import TERMS, LossWeights

PositiveInt = Annotated[int, Field(ge=1)]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
_SCHEMA = ConfigDict(extra="forbid")
"""The typed schema of a run: every field's type and range is in its annotation (pydantic checks them, and
rejects unknown keys at every level), so a bad value is one line naming its key before anything is created."""

STAGES = {
    "attention": ("attention",),
    "noise": ("noise",),
    "enhance": ("enhance", "reinforce"),
    "joint": TERMS,
}
"""Stage name -> loss terms it optimises; each stage trains only the sub-networks those terms reach."""


@dataclass(frozen=True)
class Stage:
    __pydantic_config__ = _SCHEMA

    name: str
    """attention, noise, enhance (Enhancement- and Reinforce-Net) or joint (everything)."""
    steps: PositiveInt
    lr: Positive | None = None
    """Peak learning rate of this stage; default: the run's `lr`."""

    def __post_init__(self) -> None:
        if self.name not in STAGES:
            raise LowlightError(f"config: unknown stage {self.name!r}; known: {', '.join(STAGES)}")
        if self.steps < 1:
            raise LowlightError(f"config: stage {self.name} needs at least 1 step")


@dataclass(frozen=True)
class TrainConfig:
    """A training run. Defaults: fine-tune the Noise-Net variant from the official weights."""

    __pydantic_config__ = _SCHEMA

    data: str = "lowlight-synth"
    """A `lowlight synth` output folder (data_mode=pairs) or a folder/glob of normal photos (onthefly)."""
    data_mode: Literal["pairs", "onthefly"] = "pairs"
    val_data: str | None = None
    """Synth folder whose `test` split validates; default: `data` when data_mode=pairs."""
    real_data: str | None = None
    """Real pairs (LOL layout: low/ + high/) mixed into training, their `train` split only (see
    `synth.store.real_split`); the noise term skips them, their noise being unknown."""
    real_share: Annotated[float, Field(ge=0, lt=1)] | None = None
    """Fraction of training samples that are real pairs (see `training.data.MixedPairs`); None: each real
    and synthetic pair once per epoch, whatever the counts."""
    synth: dict[str, Any] = field(default_factory=dict)
    """data_mode=onthefly: SynthSettings overrides for the pairs synthesized while training
    (e.g. cast_share)."""
    synth_repeats: PositiveInt = 1
    """data_mode=onthefly: how many times each photo appears per epoch (each time freshly synthesized)."""
    synth_quantize: bool = False
    """data_mode=onthefly: round each low image to 8 bits, as every photo file and `lowlight synth`'s stored
    pairs are (very dark photos then carry only a few codes, as real ones do)."""
    out: str = "runs/agllnet"
    init: str = "official"
    """Weights to start from (bundled name, folder, hf://...) or `scratch`."""
    arch: Literal["agllnet", "agllnet-lite"] = "agllnet"
    """The network built by `init: scratch`: AgLLNet (`models.agllnet`) or AgLLNet-Lite (`models.lite`);
    weights given as `init` bring their own."""
    noise_net: bool = True
    """Build the paper's Noise-Net variant (from official weights: extra inputs zero-initialised)."""
    model: dict[str, Any] = field(default_factory=dict)
    """Config overrides of `arch` for `init: scratch` (e.g. smaller widths)."""
    stages: tuple[Stage, ...] = (Stage("joint", 1000),)
    crop: PositiveInt = 128
    """Training crop side; a multiple of the model's `attention_multiple` (128 for the released widths)."""
    batch: PositiveInt = 4
    """Per process; the effective batch is batch x processes."""
    workers: Count = 2
    lr: Positive = 1e-4
    weight_decay: NonNegative = 0.0
    schedule: Literal["cosine", "step", "constant"] = "cosine"
    """cosine (to min_lr_ratio x lr), step (x step_gamma every step_size steps) or constant; per stage."""
    min_lr_ratio: Fraction = 0.01
    step_size: PositiveInt = 1000
    step_gamma: Positive = 0.5
    warmup: Count = 0
    """Linear warm-up steps at the start of each stage."""
    grad_clip: NonNegative = 1.0
    """Max global gradient norm (0: off)."""
    ema: Annotated[float, Field(ge=0, lt=1)] = 0.999
    """Decay of the weights' exponential moving average used for validation and export (0: off)."""
    amp: bool = True
    """bf16 autocast on CUDA (ignored on the CPU)."""
    channels_last: bool = True
    reinforce_target: Literal["amplified", "high"] = "amplified"
    """Reinforce-Net target: the contrast-amplified image (paper) or the normal image `high`."""
    losses: LossWeights = field(default_factory=LossWeights)
    vgg_weights: str | None = None
    """VGG-19 features safetensors (path or hf://); without it the perceptual term is dropped."""
    val_every: PositiveInt = 100
    val_images: PositiveInt = 8
    val_crop: PositiveInt = 256
    ckpt_every: PositiveInt = 100
    log_every: PositiveInt = 10
    seed: Count = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.data_mode not in ("pairs", "onthefly"):
            raise LowlightError(f"config: data_mode must be pairs or onthefly, not {self.data_mode!r}")
        if self.schedule not in ("cosine", "step", "constant"):
            raise LowlightError(f"config: schedule must be cosine, step or constant, not {self.schedule!r}")
        if self.real_share is not None and not 0 <= self.real_share < 1:
            raise LowlightError(f"config: real_share must be in [0, 1), not {self.real_share!r}")
        _ = self.synth_settings  # unknown or ill-typed synth keys fail here, not in a loader worker
        if self.synth_repeats < 1:
            raise LowlightError(f"config: synth_repeats must be at least 1, not {self.synth_repeats!r}")
        if self.reinforce_target not in ("amplified", "high"):
            raise LowlightError(
                f"config: reinforce_target must be amplified or high, not {self.reinforce_target!r}"
            )

    @property
    def synth_settings(self):
        """The SynthSettings of on-the-fly pairs: the defaults with `synth` applied."""
        import dataclasses

        from lowlight_cli.synth.settings import DEFAULTS

        _reject_unknown(type(DEFAULTS), self.synth, "synth")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in self.synth.items()}
        return dataclasses.replace(DEFAULTS, **values)

    @property
    def total_steps(self) -> int:
        return sum(s.steps for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stages"] = [asdict(s) for s in self.stages]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Validate `data` against the schema; a bad key or value is a one-line LowlightError naming it."""
        if not isinstance(data, dict):
            raise LowlightError(f"config: expected a mapping, got {data!r}")
        try:
            return _adapter().validate_python(data)
        except ValidationError as exc:
            raise LowlightError(describe_validation(exc)) from None

    def save(self, path: Path) -> None:
        import yaml

        from lowlight_cli.io.atomic import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))


def _adapter() -> TypeAdapter:
    global _ADAPTER
    if _ADAPTER is None:
        _ADAPTER = TypeAdapter(TrainConfig)
    return _ADAPTER


_ADAPTER: TypeAdapter | None = None


def describe_validation(exc: ValidationError, where: str = "config") -> str:
    """The first schema violation as `config: stages.0.step: unknown key ...`
    (unknown keys reported first)."""
    errors = sorted(
        exc.errors(), key=lambda e: e["type"] not in ("unexpected_keyword_argument", "extra_forbidden")
    )
    first = errors[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        text = "unknown key"
    else:
        text = f"{first['msg'].replace('Input should', 'should')}, not {first.get('input')!r}"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{where}: {key}: {text}{more}"


def _reject_unknown(cls: type, data: Any, where: str) -> None:
    if not isinstance(data, dict):
        raise LowlightError(f"{where}: expected a mapping, got {data!r}")
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise LowlightError(f"{where}: unknown keys {sorted(unknown)}")


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply `a.b=value` in place; the value is parsed as YAML (numbers, booleans, lists, mappings)."""
    import yaml

    key, sep, text = assignment.partition("=")
    if not sep or not key:
        raise LowlightError(f"override {assignment!r}: expected key=value")
    *parents, leaf = key.strip().split(".")
    node = data
    for name in parents:
        node = node.setdefault(name, {})
        if not isinstance(node, dict):
            raise LowlightError(f"override {assignment!r}: {name} is not a section")
    node[leaf] = yaml.safe_load(text)


def load_config(path: Path | None = None, overrides: tuple[str, ...] = ()) -> TrainConfig:
    """Defaults, then the YAML file, then each override in order."""
    import yaml

    data = TrainConfig().to_dict()
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise LowlightError(f"{path}: cannot read config ({exc})") from None
        _reject_unknown(TrainConfig, loaded, str(path))
        for key, value in loaded.items():
            if key == "losses":
                _reject_unknown(LossWeights, value, f"{path}: losses")
                data["losses"].update(value)
            else:
                data[key] = value
    for assignment in overrides:
        apply_override(data, assignment)
    return TrainConfig.from_dict(data)
