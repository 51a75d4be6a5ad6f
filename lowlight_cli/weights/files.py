"""The on-disk formats of a weights folder: file names, format versions, the resolved files of a reference,
and the sha256 every loader checks. The lowest module of `weights`: the Hub client and the registry import
it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from lowlight_cli.errors import WeightsError

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
FORMAT = "lowlight-weights/1"
ONNX_DIR = "onnx"
"""Sub-folder of a weights folder holding its exported ONNX graphs (see `lowlight export`)."""
ONNX_MANIFEST = "manifest.json"
ONNX_FORMAT = "lowlight-onnx/2"
"""Version 2: the local graph returns the network's image before the attention gate (the Enhancer gates).
Version 1 graphs are read when their weights have no gate (the graphs are the same)."""
ONNX_FORMAT_UNGATED = "lowlight-onnx/1"
DEFAULT_OPSET, MIN_OPSET = 17, 11
"""The ONNX opset `lowlight export` writes by default, and the oldest it writes."""
GraphPrecision = Literal["fp32", "fp16"]
"""The network's numeric precisions: the ONNX graphs an export holds (fp32 always, fp16 when asked), and what
the torch backend runs in. `inference.precision` adds `auto`."""
GRAPH_PRECISIONS: tuple[str, ...] = get_args(GraphPrecision)
"""The graph precisions a manifest may list that are loaded; other entries (older manifests listed int8
graphs) are ignored, their files neither read nor required."""


@dataclass(frozen=True)
class ResolvedWeights:
    weights_file: Path
    config_file: Path
    sha256: str | None
    """A record of the weights' sha256 from outside their config.json (the Hub's), checked besides the one in
    config.json; None for bundled and local weights, whose config.json holds their one record."""
    source: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_config(path: Path) -> dict[str, Any]:
    """A weights folder's config.json: the architecture and the sha256 of its model.safetensors."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise WeightsError(f"{path}: missing; weights need a config.json beside model.safetensors") from None
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{path}: unreadable config ({exc})") from None
    if data.get("format") != FORMAT:
        raise WeightsError(f"{path}: not a lowlight weights config (format {data.get('format')!r})")
    return data


def graph_file(stage: str, precision: str) -> str:
    """File name of one exported stage: attention.onnx, local.fp16.onnx, ..."""
    return f"{stage}.onnx" if precision == "fp32" else f"{stage}.{precision}.onnx"


class NoOnnxExport(WeightsError):
    """Weights that exist but have no exported ONNX graphs (so only PyTorch can run them)."""
