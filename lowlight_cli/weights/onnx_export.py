"""Export a model's two stages (global attention, tiled local stages) as ONNX graphs for onnxruntime.

Two graphs rather than one because the Enhancer runs them separately: attention once per (downscaled)
image, the local stages tile by tile. Batch, height and width are dynamic. The fp16 variant keeps float32
inputs and outputs (casts inside), so the backend swaps graphs without touching its buffers.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from lowlight_cli.errors import LowlightError
from lowlight_cli.weights.files import DEFAULT_OPSET, GRAPH_PRECISIONS, MIN_OPSET
from lowlight_cli.weights.registry import ONNX_FORMAT, ONNX_MANIFEST, ResolvedWeights, graph_file, sha256_of

if TYPE_CHECKING:
    from lowlight_cli.models.build import Network

STAGES: dict[str, tuple[tuple[str, ...], Callable]] = {
    "attention": (("image",), lambda m, x: m.attention(x)),
    "local": (("image", "attention"), lambda m, x, a: m.local(x, a).reinforced),
}
"""Stage name -> (input names, how the model computes its one output). The local graph stops before the
attention gate, which needs the whole image's map (`inference.whole_image_gate`)."""


class _Stage(nn.Module):
    """One stage of `model` as a module with plain tensor inputs/outputs (what the exporter traces)."""

    def __init__(self, model: Network, stage: str, half: bool) -> None:
        super().__init__()
        self.model, self.fn, self.fp16 = model, STAGES[stage][1], half

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        if self.fp16:
            return self.fn(self.model, *(x.half() for x in inputs)).float()
        return self.fn(self.model, *inputs)


def _example(stage: str, multiple: int) -> tuple[torch.Tensor, ...]:
    """The smallest valid input: tracing runs the model once, and fp16 convolutions on the CPU are slow."""
    x = torch.rand(1, 3, multiple, multiple)
    return (x,) if stage == "attention" else (x, torch.rand(1, 1, multiple, multiple))


def deconvs_as_convs(model: Network) -> Network:
    """A copy in which every stride-1 transposed conv is the equivalent conv (flipped kernel, full padding).

    Same function, but onnxruntime's CPU provider runs ConvTranspose through a col2im buffer of
    k*k*C_out floats per pixel (about 1 GB per megapixel for the 7x7 decoders), while plain convs get its
    blocked direct kernels: the local graph's peak memory falls about 3x (docs/performance.md).
    """
    model = copy.deepcopy(model)
    for parent in list(model.modules()):
        for name, m in list(parent.named_children()):
            if (
                type(m) is nn.ConvTranspose2d
                and m.stride == (1, 1)
                and m.output_padding == (0, 0)
                and m.groups == 1
                and not isinstance(m.padding, str)
            ):
                (kh, kw), (dh, dw), (ph, pw) = m.kernel_size, m.dilation, m.padding
                conv = nn.Conv2d(
                    m.in_channels,
                    m.out_channels,
                    (kh, kw),
                    padding=(dh * (kh - 1) - ph, dw * (kw - 1) - pw),
                    dilation=(dh, dw),
                    bias=m.bias is not None,
                )
                with torch.no_grad():
                    conv.weight.copy_(m.weight.transpose(0, 1).flip(2, 3))
                    if m.bias is not None and conv.bias is not None:
                        conv.bias.copy_(m.bias)
                setattr(parent, name, conv)
    return model


def exported_precisions(fp16: bool) -> tuple[str, ...]:
    """The graph precisions an export writes: fp32 always, fp16 too when asked (`GRAPH_PRECISIONS`)."""
    return GRAPH_PRECISIONS if fp16 else GRAPH_PRECISIONS[:1]


def export_stage(
    model: Network, stage: str, path: Path, opset: int = DEFAULT_OPSET, half: bool = False
) -> None:
    """Trace one stage to `path` with dynamic (N, H, W) and check it with onnx.checker."""
    import onnx

    names = STAGES[stage][0]
    axes = {0: "batch", 2: "height", 3: "width"}
    module = _Stage(copy.deepcopy(model).half() if half else model, stage, half).eval()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and constant-folding notes
        torch.onnx.export(
            module,
            _example(stage, model.config.attention_multiple),
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=list(names),
            output_names=["output"],
            dynamic_axes={name: axes for name in (*names, "output")},
        )
    onnx.checker.check_model(str(path), full_check=True)


def export_onnx(
    model: Network,
    out_dir: str | Path,
    opset: int = DEFAULT_OPSET,
    fp16: bool = False,
    source_sha256: str | None = None,
) -> Path:
    """Write attention/local graphs (fp32, plus fp16 when asked) and a manifest with their sha256."""
    from lowlight_cli.io.atomic import atomic_path, check_writable_dir
    from lowlight_cli.weights.registry import check_not_bundled

    out_dir = Path(out_dir)
    check_not_bundled(out_dir)
    check_writable_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = deconvs_as_convs(model.eval().cpu())
    graphs: dict[str, dict[str, dict[str, str]]] = {}
    for precision in exported_precisions(fp16):
        graphs[precision] = {}
        for stage in STAGES:
            name = graph_file(stage, precision)
            with atomic_path(out_dir / name) as tmp:
                export_stage(model, stage, tmp, opset, half=precision == "fp16")
            graphs[precision][stage] = {"file": name, "sha256": sha256_of(out_dir / name)}
    manifest = {
        "format": ONNX_FORMAT,
        "opset": opset,
        "config": model.config.to_dict(),
        "source_sha256": source_sha256,
        "graphs": graphs,
    }
    with atomic_path(out_dir / ONNX_MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    return out_dir


def compare_stages(
    model: Network, out_dir: Path, image: np.ndarray | None = None, precision: str = "fp32"
) -> dict[str, float]:
    """Max |torch - onnxruntime| per stage on random inputs (batch 2, not square) and on `image` (HxWx3).

    The image is cropped to multiples of the attention grid; the local stage gets torch's attention map.
    """
    import onnxruntime as ort

    m = model.config.attention_multiple
    rng = np.random.default_rng(0)
    inputs = {"random": rng.random((2, 3, m, 2 * m), dtype=np.float32)}
    if image is not None:
        h, w = image.shape[0] // m * m, image.shape[1] // m * m
        inputs["image"] = np.ascontiguousarray(image[:h, :w].transpose(2, 0, 1)[None], dtype=np.float32)
    sessions = {
        stage: ort.InferenceSession(
            str(out_dir / graph_file(stage, precision)), providers=["CPUExecutionProvider"]
        )
        for stage in STAGES
    }
    diffs = {}
    with torch.inference_mode():
        for kind, x in inputs.items():
            a = model.attention(torch.from_numpy(x))
            ref = {"attention": a, "local": model.local(torch.from_numpy(x), a).reinforced}
            feeds = {"attention": {"image": x}, "local": {"image": x, "attention": a.numpy()}}
            for stage, session in sessions.items():
                out = session.run(None, feeds[stage])[0]
                diffs[f"{stage}/{kind}"] = float(np.abs(out - ref[stage].numpy()).max())
    return diffs


TOLERANCE = {"fp32": 1e-4, "fp16": 5e-2}
"""Max |torch fp32 - onnxruntime| accepted by the export check, per graph precision."""


@dataclass(frozen=True)
class Comparison:
    """One graph precision against PyTorch: max |torch - onnxruntime| per stage and input (`compare_stages`),
    or None with the reason it could not be compared on this machine."""

    precision: str
    diffs: dict[str, float] | None
    skipped: str | None = None

    @property
    def within_tolerance(self) -> bool:
        return self.diffs is None or max(self.diffs.values()) <= TOLERANCE[self.precision]


@dataclass(frozen=True)
class ExportReport:
    out: Path
    opset: int
    comparisons: tuple[Comparison, ...]

    @property
    def within_tolerance(self) -> bool:
        """Every graph that could be compared is within TOLERANCE of PyTorch."""
        return all(c.within_tolerance for c in self.comparisons)


class GraphMismatch(LowlightError):
    """Exported graphs that differ from PyTorch by more than TOLERANCE (they are written: `report.out`)."""

    def __init__(self, report: ExportReport) -> None:
        super().__init__(f"the exported graphs differ from PyTorch by more than {TOLERANCE}")
        self.report = report


def export_folder(weights: str, out: str | Path | None = None, found: ResolvedWeights | None = None) -> Path:
    """Where `export_weights` writes: `out`, or else the weights folder's onnx/. Hub weights (a read-only
    cache) and bundled weights (read-only, and they ship their graphs) need an `out`. `found`: `weights`
    resolved already."""
    from lowlight_cli.weights.hub import PREFIX
    from lowlight_cli.weights.registry import ONNX_DIR, WRITE_BUNDLED_ENV, check_not_bundled, resolve

    if out is None:
        found = found or resolve(weights)
        if found.source.startswith(PREFIX):
            raise LowlightError(
                f"out is needed for {PREFIX} weights (the Hub cache is read-only)", param="out"
            )
        if found.source.startswith("bundled:") and os.environ.get(WRITE_BUNDLED_ENV) != "1":
            raise LowlightError(
                f"out is needed for bundled weights (they are read-only, and {weights!r} already "
                f"ships its ONNX graphs): e.g. {weights}-onnx",
                param="out",
            )
        out = found.weights_file.parent / ONNX_DIR
    check_not_bundled(out)
    return Path(out)


def export_weights(
    weights: str,
    out: str | Path | None = None,
    opset: int = DEFAULT_OPSET,
    fp16: bool = False,
    image: str | Path | None = None,
) -> ExportReport:
    """Export `weights` as ONNX graphs (`export_onnx`) into `export_folder(weights, out)`, then compare each
    graph precision with PyTorch on random inputs and, when given, a real photo. Raises GraphMismatch (which
    carries the report) when a graph is further from PyTorch than TOLERANCE."""
    from lowlight_cli.io.images import read_image
    from lowlight_cli.weights.model_io import load_checkpoint
    from lowlight_cli.weights.registry import resolve

    if opset < MIN_OPSET:
        raise LowlightError(f"opset {opset}: must be at least {MIN_OPSET}", param="opset")
    found = resolve(weights)
    folder = export_folder(weights, out, found)
    model = load_checkpoint(found.weights_file, found.config_file, found.sha256)
    export_onnx(model, folder, opset=opset, fp16=fp16, source_sha256=sha256_of(found.weights_file))
    rgb = read_image(image)[0] if image else None
    comparisons = []
    for precision in exported_precisions(fp16):
        try:
            comparisons.append(Comparison(precision, compare_stages(model, folder, rgb, precision)))
        except Exception as exc:  # onnxruntime's CPU provider has no fp16 convolutions on most CPUs
            comparisons.append(Comparison(precision, None, exc.__class__.__name__))
    report = ExportReport(folder, opset, tuple(comparisons))
    if not report.within_tolerance:
        raise GraphMismatch(report)
    return report
