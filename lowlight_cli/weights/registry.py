"""Bundled weights and the resolution of weight references to files on disk.

A reference is one of: a bundled name (`official`, ...), a directory holding model.safetensors and
config.json, a path to a .safetensors file (config.json beside it), or `hf://owner/repo[@revision]/file`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lowlight_cli.errors import WeightsError
from lowlight_cli.io.atomic import guard_outputs
from lowlight_cli.weights.files import (  # noqa: F401 - the formats, re-exported for callers
    CONFIG_FILE,
    FORMAT,
    GRAPH_PRECISIONS,
    ONNX_DIR,
    ONNX_FORMAT,
    ONNX_FORMAT_UNGATED,
    ONNX_MANIFEST,
    WEIGHTS_FILE,
    NoOnnxExport,
    ResolvedWeights,
    graph_file,
    read_config,
    sha256_of,
)
from lowlight_cli.weights.hub import PREFIX, download_onnx, resolve_hub


@dataclass(frozen=True)
class BundledWeights:
    name: str
    folder: str
    summary: str
    license: str

    @property
    def sha256(self) -> str:
        """The sha256 of its model.safetensors, read from its config.json: a weight set's one record (written
        by `save_model`, checked by every load; its ONNX manifest's `source_sha256` must equal it)."""
        return str(read_config(bundled_dir() / self.folder / CONFIG_FILE)["sha256"])


BUNDLED: dict[str, BundledWeights] = {
    w.name: w
    for w in (
        BundledWeights(
            "official",
            "official",
            "The authors' released AgLLNet (no Noise-Net), imported from its ONNX conversion",
            "MIT (c) 2021 Yu Li",
        ),
        BundledWeights(
            "agllnet-look-5",
            "agllnet-look-5",
            "Ours (default): the Noise-Net variant fine-tuned from `official`, with a smooth attention gate",
            "MIT; trained partly on research-only data, see its model card",
        ),
        BundledWeights(
            "agllnet-lite",
            "agllnet-lite",
            "Ours, CPU-sized (AgLLNet-Lite, about 20x faster than `official` on a CPU): blacks stay black",
            "MIT; trained partly on research-only data, see its model card",
        ),
    )
}
MAX_BUNDLED = 3
"""The wheel holds at most this many weight sets (tests/test_bundle.py): `official`, the default and
`agllnet-lite`, the fast one."""
DEFAULT_WEIGHTS = "agllnet-look-5"
"""What `lowlight enhance` uses without --weights; chosen by the rule of docs/benchmarks.md (no worse than
`official` on any look criterion, better on most): `agllnet-look-5` is the first of ours to pass it."""


def bundled_dir() -> Path:
    """Where the bundled weights live: inside the installed wheel, else the source checkout's weights/."""
    packaged = Path(str(resources.files("lowlight_cli"))) / "_bundled_weights"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "weights"


WRITE_BUNDLED_ENV = "LOWLIGHT_WRITE_BUNDLED"
"""Set to 1 by maintainers who regenerate the bundled files on purpose (`lowlight export` into weights/);
without it the bundled weights are read-only to every command."""


def check_not_bundled(path: str | Path) -> None:
    """Raise WeightsError when `path` lies inside the bundled weights, which no command may change."""
    if os.environ.get(WRITE_BUNDLED_ENV) == "1":
        return
    root = bundled_dir().resolve()
    target = Path(path).resolve()
    if target == root or root in target.parents:
        raise WeightsError(
            f"{path}: inside the bundled weights ({root}), which no command changes; "
            "write to another folder (`out`)"
        )


guard_outputs(check_not_bundled)  # every atomic write and output folder check refuses the bundled weights


def resolve(ref: str | Path) -> ResolvedWeights:
    text = str(ref)
    if text.startswith(PREFIX):
        return resolve_hub(text)
    if text in BUNDLED:
        entry = BUNDLED[text]
        folder = bundled_dir() / entry.folder
        return ResolvedWeights(folder / WEIGHTS_FILE, folder / CONFIG_FILE, None, f"bundled:{text}")
    path = Path(text).expanduser()
    if path.is_dir():
        return ResolvedWeights(path / WEIGHTS_FILE, path / CONFIG_FILE, None, str(path))
    if path.suffix == ".safetensors" and path.is_file():
        return ResolvedWeights(path, path.with_name(CONFIG_FILE), None, str(path))
    raise unknown_weights(text)


def unknown_weights(text: str) -> WeightsError:
    """The one-line error for a reference that names no bundled weights, folder or file (a typo, mostly)."""
    import difflib

    names = ", ".join(BUNDLED)
    path = Path(text).expanduser()
    if path.exists():
        return WeightsError(
            f"weights {text!r}: not a weights folder or a .safetensors file (bundled: {names})"
        )
    if "/" in text or os.sep in text or text.startswith(("~", ".")) or path.suffix == ".safetensors":
        return WeightsError(f"weights {text!r}: no such file or folder (bundled: {names})")
    close = difflib.get_close_matches(text, list(BUNDLED), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return WeightsError(
        f"unknown weights {text!r} (bundled: {names}; or a weights folder, a .safetensors file "
        f"or hf://owner/repo/file){hint}"
    )


@dataclass(frozen=True)
class OnnxGraphs:
    """A verified ONNX export: graph paths per precision and stage, and the architecture they came from."""

    folder: Path
    graphs: dict[str, dict[str, Path]]
    """precision ("fp32", "fp16") -> stage ("attention", "local") -> file."""
    config: dict[str, Any]
    """The exported model's `AgLLNetConfig.to_dict()` (size multiples and tiling margin derive from it)."""


def resolve_onnx(ref: str | Path) -> OnnxGraphs:
    """The ONNX export of a weights reference, without torch: a bundled name's `onnx/` folder, a weights
    folder's (or Hub repository's) `onnx/` sub-folder, or an export folder itself; every sha256 is checked."""
    text = str(ref)
    if text in BUNDLED:
        folder = bundled_dir() / BUNDLED[text].folder / ONNX_DIR
        expected_source = BUNDLED[text].sha256
    elif text.startswith(PREFIX):
        folder, expected_source = download_onnx(text), None
    else:
        base = Path(text).expanduser()
        if not base.exists():
            raise unknown_weights(text)
        folder = base if (base / ONNX_MANIFEST).is_file() else base / ONNX_DIR
        expected_source = None
    manifest_path = folder / ONNX_MANIFEST
    if not manifest_path.is_file():
        raise NoOnnxExport(f"weights {text!r}: no ONNX export found; run `lowlight export --weights {text}`")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{manifest_path}: unreadable ONNX manifest ({exc})") from None
    if manifest.get("format") not in (ONNX_FORMAT, ONNX_FORMAT_UNGATED):
        raise WeightsError(
            f"{manifest_path}: not a lowlight ONNX manifest (format {manifest.get('format')!r})"
        )
    if manifest["format"] == ONNX_FORMAT_UNGATED and (manifest.get("config") or {}).get("attention_gate"):
        raise WeightsError(
            f"{manifest_path}: exported by an older lowlight with the attention gate inside the graph; "
            f"re-run `lowlight export --weights {text}`"
        )
    if expected_source and manifest.get("source_sha256") != expected_source:
        raise WeightsError(
            f"{folder}: the ONNX graphs were exported from other weights; re-run `lowlight export`"
        )
    graphs: dict[str, dict[str, Path]] = {}
    for precision, stages in manifest["graphs"].items():
        if precision not in GRAPH_PRECISIONS:  # e.g. the int8 graphs older manifests listed
            continue
        for stage, entry in stages.items():
            path = folder / entry["file"]
            if not path.is_file():
                raise WeightsError(f"{path}: ONNX graph listed in the manifest is missing")
            if sha256_of(path) != entry["sha256"]:
                raise WeightsError(f"{path}: sha256 does not match the manifest (damaged or edited)")
            graphs.setdefault(precision, {})[stage] = path
    return OnnxGraphs(folder, graphs, manifest["config"])
