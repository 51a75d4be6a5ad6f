"""Bundled weights and the resolution of weight references to files on disk.

A reference is one of: a bundled name (`official`, ...), a directory holding model.safetensors and
config.json, a path to a .safetensors file (config.json beside it), or `hf://owner/repo[@revision]/file`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lowlight_cli.errors import WeightsError

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
FORMAT = "lowlight-weights/1"


@dataclass(frozen=True)
class BundledWeights:
    name: str
    folder: str
    sha256: str
    summary: str
    license: str


BUNDLED: dict[str, BundledWeights] = {
    w.name: w
    for w in (
        BundledWeights(
            "official",
            "official",
            "",
            "The authors' released AgLLNet (no Noise-Net), imported from its ONNX conversion",
            "MIT (c) 2021 Yu Li",
        ),
    )
}
DEFAULT_WEIGHTS = "official"
"""What `lowlight enhance` uses without --weights; chosen by the measurements in docs/benchmarks.md."""


@dataclass(frozen=True)
class ResolvedWeights:
    weights_file: Path
    config_file: Path
    sha256: str | None
    source: str


def bundled_dir() -> Path:
    """Where the bundled weights live: inside the installed wheel, else the source checkout's weights/."""
    packaged = Path(str(resources.files("lowlight_cli"))) / "_bundled_weights"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "weights"


def resolve(ref: str | Path) -> ResolvedWeights:
    text = str(ref)
    if text in BUNDLED:
        entry = BUNDLED[text]
        folder = bundled_dir() / entry.folder
        return ResolvedWeights(folder / WEIGHTS_FILE, folder / CONFIG_FILE, entry.sha256 or None, f"bundled:{text}")
    path = Path(text).expanduser()
    if path.is_dir():
        return ResolvedWeights(path / WEIGHTS_FILE, path / CONFIG_FILE, None, str(path))
    if path.suffix == ".safetensors" and path.is_file():
        return ResolvedWeights(path, path.with_name(CONFIG_FILE), None, str(path))
    names = ", ".join(BUNDLED)
    raise WeightsError(f"weights {text!r}: not a bundled name ({names}), a weights folder or a .safetensors file")
