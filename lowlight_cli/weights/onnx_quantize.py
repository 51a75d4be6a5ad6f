"""int8 graphs: static QDQ quantization of an export's fp32 graphs with onnxruntime's quantization tools.

Weights are quantized per output channel (int8, symmetric), activations per tensor (uint8) with ranges
calibrated on synthetic low-light inputs made by `lowlight_cli.synth` from real photos, so the ranges are
those the network sees in use. Convolutions whose quantization costs too much accuracy are kept in fp32
(`keep_fp32`, found by measurement: `scripts/quantize_int8.py` records what was tried). The int8 graphs are
listed in the export's manifest beside fp32/fp16, with the accuracy gate they were measured against
(`lowlight_cli.inference.precision`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from lowlight_cli.weights.registry import ONNX_MANIFEST, graph_file, sha256_of

STAGE_INPUTS = {"attention": ("image",), "local": ("image", "attention")}
CALIBRATION_SIZE = 256
"""Side of the square crops calibrated on (a multiple of the attention grid of 128)."""


def calibration_images(photos: Iterable[Path], count: int, seed: int = 0, size: int = CALIBRATION_SIZE) -> list[np.ndarray]:
    """`count` low-light inputs (HxWx3 float32) synthesized from random crops of `photos` with the default
    synthesis settings: darkening, colour casts, camera noise and JPEG, as in training."""
    from lowlight_cli.synth.pairs import synthesize
    from lowlight_cli.synth.pipeline import decode
    from lowlight_cli.synth.settings import SynthSettings

    import cv2

    rng = np.random.default_rng(seed)
    settings = SynthSettings()
    sources = [decode(p).astype(np.float32) / 255.0 for p in sorted(photos)]
    if not sources:
        raise ValueError("no calibration photos")
    out = []
    for i in range(count):
        rgb = sources[i % len(sources)]
        scale = size / min(rgb.shape[:2]) * rng.uniform(1.0, 2.0)
        if scale < 1.0:
            rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        elif min(rgb.shape[:2]) < size:
            rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        y = int(rng.integers(rgb.shape[0] - size + 1))
        x = int(rng.integers(rgb.shape[1] - size + 1))
        crop = np.ascontiguousarray(rgb[y : y + size, x : x + size])
        out.append(synthesize(crop, rng, settings, quantize=True, amplify=False).low)
    return out


def stage_feeds(fp32_folder: Path, images: list[np.ndarray]) -> dict[str, list[dict[str, np.ndarray]]]:
    """The inputs of both stages for each image: the local stage gets the fp32 attention graph's map."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(fp32_folder / graph_file("attention", "fp32")), providers=["CPUExecutionProvider"])
    feeds: dict[str, list[dict[str, np.ndarray]]] = {"attention": [], "local": []}
    for rgb in images:
        x = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)
        att = session.run(None, {"image": x})[0]
        feeds["attention"].append({"image": x})
        feeds["local"].append({"image": x, "attention": att})
    return feeds


class FeedReader:
    """onnxruntime's `CalibrationDataReader` protocol over a list of prepared feeds."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]) -> None:
        self.feeds = feeds
        self._it: Iterator[dict[str, np.ndarray]] = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)

    def rewind(self) -> None:
        self._it = iter(self.feeds)

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        return iter(self.feeds)


def conv_names(graph: Path) -> list[str]:
    """Names of the Conv nodes of a graph, in graph (topological) order."""
    import onnx

    return [n.name for n in onnx.load(str(graph)).graph.node if n.op_type == "Conv"]


def quantize_stage(
    fp32_graph: Path, out: Path, feeds: list[dict[str, np.ndarray]], keep_fp32: Iterable[str] = (),
    method: str = "minmax", reduce_range: bool = True,
) -> None:
    """Write the QDQ int8 version of one fp32 graph to `out`; Conv nodes named in `keep_fp32` stay fp32.

    `reduce_range` (7-bit weights) avoids the saturation of the u8s8 dot-product instruction (VPMADDUBSW)
    that AVX2 and AVX-512 without VNNI use (onnxruntime's quantization docs).
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32_graph), str(pre), skip_symbolic_shape=True)
        quantize_static(
            str(pre), str(out), FeedReader(feeds),
            quant_format=QuantFormat.QDQ, op_types_to_quantize=["Conv"], per_channel=True, reduce_range=reduce_range,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=list(keep_fp32),
            calibrate_method=methods[method],
            extra_options={"CalibTensorRangeSymmetric": False, "CalibMovingAverage": False},
        )


def add_to_manifest(folder: Path, precision: str, gate: dict | None = None, build: dict | None = None) -> None:
    """List `folder`'s `<stage>.<precision>.onnx` graphs in its manifest with their sha256 (and the
    accuracy gate / build settings they were measured with); the other entries are kept."""
    from lowlight_cli.io.atomic import atomic_path

    path = folder / ONNX_MANIFEST
    manifest = json.loads(path.read_text())
    manifest["graphs"][precision] = {
        stage: {"file": graph_file(stage, precision), "sha256": sha256_of(folder / graph_file(stage, precision))}
        for stage in STAGE_INPUTS
    }
    if build is not None:  # new graphs: an earlier gate measurement no longer applies
        manifest.setdefault("builds", {})[precision] = build
        manifest.get("gates", {}).pop(precision, None)
    if gate is not None:
        manifest.setdefault("gates", {})[precision] = gate
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
