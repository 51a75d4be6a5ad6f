"""A bench run: what it measures, every option checked before the first case runs (`plan`), and the run
(`run`).

Lists are given as sequences or as comma-separated text (`"torch,onnx"`); a bad value is one LowlightError
whose `param` names the argument.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lowlight_cli.errors import DeviceError, LowlightError
from lowlight_cli.inference import BACKENDS, ONNX_BACKENDS
from lowlight_cli.speed.cases import (
    DEFAULT_SIZES,
    MAX_MEGAPIXELS,
    Case,
    Result,
    run_isolated,
    video_fps,
)
from lowlight_cli.weights.files import GRAPH_PRECISIONS
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS

Listing = str | Sequence


def _items(value: Listing) -> list[str]:
    parts = value.split(",") if isinstance(value, str) else value
    return [str(v).strip() for v in parts if str(v).strip()]


def parse_names(param: str, value: Listing, allowed: tuple[str, ...]) -> list[str]:
    """Names out of `allowed`; anything else (or nothing) is one LowlightError about `param`."""
    given = _items(value)
    bad = [v for v in given if v not in allowed]
    if bad or not given:
        raise LowlightError(
            f"{param}: {', '.join(bad) or 'nothing given'} is not one of {', '.join(allowed)}", param=param
        )
    return given


def parse_sizes(value: Listing) -> list[float]:
    """Megapixels, each above 0 and at most MAX_MEGAPIXELS."""
    found = []
    for v in _items(value):
        try:
            size = float(v)
        except ValueError:
            raise LowlightError(
                f"sizes: {v!r} is not a number of megapixels (e.g. 0.5,2,8)", param="sizes"
            ) from None
        if not 0 < size <= MAX_MEGAPIXELS:  # also refuses nan and inf
            raise LowlightError(
                f"sizes: {v} megapixels is out of range (above 0, at most {MAX_MEGAPIXELS:g})", param="sizes"
            )
        found.append(size)
    if not found:
        raise LowlightError("sizes: nothing given (megapixels, e.g. 0.5,2,8)", param="sizes")
    return found


def parse_tiles(value: Listing) -> list[int | None]:
    """`auto` (None: the Enhancer's choice) or tile core sizes in px (0: never tile)."""
    found: list[int | None] = []
    for v in _items(value):
        if v in ("auto", "None"):
            found.append(None)
            continue
        try:
            tile = int(v)
        except ValueError:
            raise LowlightError(
                f"tiles: {v!r} is neither auto nor a tile size in px", param="tiles"
            ) from None
        if tile < 0:
            raise LowlightError(f"tiles: {tile} is negative (0 means never tile)", param="tiles")
        found.append(tile)
    if not found:
        raise LowlightError("tiles: nothing given (auto or tile sizes in px)", param="tiles")
    return found


def device_type(device: str) -> str:
    """`cuda` or `cpu`: where a run on `device` measures. `auto` is CUDA when onnxruntime offers it (or,
    without onnxruntime, when torch can use it)."""
    from lowlight_cli.extras import installed

    if device.startswith("cuda"):
        return "cuda"
    if device != "auto":
        return "cpu"
    if installed("onnxruntime"):
        import onnxruntime

        return "cuda" if "CUDAExecutionProvider" in onnxruntime.get_available_providers() else "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def usable_precisions(precisions: list[str], device_type: str) -> list[str]:
    """fp16 runs on CUDA only: dropped on a CPU, and an error when nothing else is left."""
    usable = [p for p in precisions if not (p == "fp16" and device_type == "cpu")]
    if not usable:
        raise DeviceError(
            "precisions fp16 needs a CUDA device; this run is on the CPU (use fp32)", param="precisions"
        )
    return usable


@dataclass(frozen=True)
class Plan:
    """Every case of one run, checked (`plan`)."""

    weights: str
    device: str
    device_type: str
    """cuda or cpu (`device_type`)."""
    backends: tuple[str, ...]
    precisions: tuple[str, ...]
    """Those that run on `device_type`."""
    tiles: tuple[int | None, ...]
    sizes: tuple[float, ...]
    repeats: int
    out: Path
    video: Path | None = None
    video_seconds: float = 1.0
    fast_video_seconds: float | None = None
    ratios: bool = False
    authors_graph: Path | None = None
    notes: tuple[str, ...] = ()
    """What the run leaves out of what was asked, and why (fp16 on a CPU)."""

    @property
    def cases(self) -> list[Case]:
        return [
            Case(b, p, t, s)
            for s in self.sizes
            for b in self.backends
            for p in self.precisions
            for t in self.tiles
        ]


def plan(
    backends: Listing = ("torch", "onnx"),
    precisions: Listing = ("fp32",),
    tiles: Listing = ("auto",),
    sizes: Listing | None = None,
    repeats: int = 1,
    out: str | Path = "bench",
    video: str | Path | None = None,
    video_seconds: float = 1.0,
    fast_video_seconds: float | None = None,
    ratios: bool = False,
    authors_graph: str | Path | None = None,
    weights: str = DEFAULT_WEIGHTS,
    device: str = "auto",
) -> Plan:
    """Check every option (and that the extras it needs are installed, the output folder writable and the
    video readable) before anything is measured. `sizes` None: DEFAULT_SIZES of the device type."""
    from lowlight_cli.extras import require
    from lowlight_cli.io.atomic import check_writable_dir

    backend_list = parse_names("backends", backends, BACKENDS)
    precision_list = parse_names("precisions", precisions, GRAPH_PRECISIONS)
    tile_list = parse_tiles(tiles)
    size_list = parse_sizes(sizes) if sizes is not None else None
    if repeats < 1:
        raise LowlightError(f"repeats {repeats}: must be at least 1", param="repeats")
    out = Path(out)
    check_writable_dir(out)
    if "torch" in backend_list:
        require("backends torch", "torch", param="backends")
    if any(b in ONNX_BACKENDS for b in backend_list):
        require("backends onnx", "onnxruntime", param="backends")
    if video is not None:
        require("video", "video", param="video")
        from lowlight_cli.video.probe import probe

        probe(video)  # a bad clip is one line now, not after every image case
    kind = device_type(device)
    usable = usable_precisions(precision_list, kind)
    notes = (
        ("fp16 skipped: it needs a CUDA device, this run is on the CPU",) if usable != precision_list else ()
    )
    return Plan(
        weights,
        device,
        kind,
        tuple(backend_list),
        tuple(usable),
        tuple(tile_list),
        tuple(size_list or DEFAULT_SIZES[kind]),
        repeats,
        out,
        Path(video) if video is not None else None,
        video_seconds,
        fast_video_seconds,
        ratios,
        Path(authors_graph) if authors_graph is not None else None,
        notes,
    )


@dataclass
class Report:
    results: list[Result]
    videos: list[dict]
    ratio: dict | None
    """`speed.ratios.ratios`, with `Plan.ratios`."""


def run(
    plan: Plan,
    on_case: Callable[[int, int, Case], None] | None = None,
    on_result: Callable[[Result], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> Report:
    """Measure every case of `plan`, each in a fresh process (`on_case(i, n, case)` before it, `on_result`
    after), then the video cases and the ratios (`log` names each as it starts)."""
    cases = plan.cases
    results = []
    for i, case in enumerate(cases, 1):
        if on_case:
            on_case(i, len(cases), case)
        results.append(run_isolated(case, plan.weights, plan.device, plan.repeats))
        if on_result:
            on_result(results[-1])
    videos = []
    if plan.video is not None:
        for b in plan.backends:
            for p in plan.precisions:
                videos.append(
                    video_fps(plan.video, b, p, plan.weights, plan.device, plan.video_seconds, plan.out)
                )
        seconds = plan.fast_video_seconds or plan.video_seconds
        videos.append(
            video_fps(
                plan.video, "onnx", "fp32", plan.weights, plan.device, seconds, plan.out, quality="fast"
            )
        )
    ratio = None
    if plan.ratios:
        from lowlight_cli.speed.ratios import ratios

        ratio = ratios(
            plan.weights,
            plan.device,
            max(plan.sizes),
            plan.repeats,
            plan.out,
            plan.authors_graph,
            log=log or (lambda _: None),
        )
    return Report(results, videos, ratio)
