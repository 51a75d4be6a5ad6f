"""`lowlight bench`: throughput and peak memory per backend x precision x tile size x image size, and video fps.

Every image case runs in a fresh (spawned) process, so its peak RSS is its own and not the maximum of
everything measured before it; the first call on a small image is excluded (session/allocator warm-up).
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

SIZES = {0.5: (960, 540), 2.0: (1920, 1080), 8.0: (3840, 2160), 24.0: (6000, 4000)}
"""Megapixels -> (width, height): qHD, 1080p, 4K UHD and a 24 MP camera frame; other sizes keep 3:2."""
DEFAULT_SIZES = {"cpu": (0.5, 2.0, 8.0), "cuda": (0.5, 2.0, 8.0, 24.0)}
BACKENDS = ("torch", "onnx", "onnx-tensorrt")
PRECISIONS = ("fp32", "fp16")
MAX_MEGAPIXELS = 400.0
"""The largest size measured: read_image's decompression-bomb limit."""


def parse_list(option: str, text: str, allowed: tuple[str, ...]) -> list[str]:
    """`a,b` of `allowed` names; anything else (or nothing) is one LowlightError naming `option`."""
    from lowlight_cli.errors import LowlightError

    names = [v.strip() for v in text.split(",") if v.strip()]
    bad = [v for v in names if v not in allowed]
    if bad or not names:
        raise LowlightError(
            f"{option}: {', '.join(bad) or 'nothing given'} is not one of {', '.join(allowed)}"
        )
    return names


def parse_sizes(text: str) -> list[float]:
    """`--sizes 0.5,2`: megapixels, each above 0 and at most MAX_MEGAPIXELS."""
    from lowlight_cli.errors import LowlightError

    sizes = []
    for v in (v.strip() for v in text.split(",")):
        try:
            size = float(v)
        except ValueError:
            raise LowlightError(
                f"--sizes: {v!r} is not a number of megapixels (e.g. --sizes 0.5,2,8)"
            ) from None
        if not 0 < size <= MAX_MEGAPIXELS:  # also refuses nan and inf
            raise LowlightError(
                f"--sizes: {v} megapixels is out of range (above 0, at most {MAX_MEGAPIXELS:g})"
            )
        sizes.append(size)
    return sizes


def parse_tiles(text: str) -> list[int | None]:
    """`--tiles auto,1024`: `auto` (None) or tile core sizes in px (0: never tile)."""
    from lowlight_cli.errors import LowlightError

    tiles: list[int | None] = []
    for v in (v.strip() for v in text.split(",")):
        if v == "auto":
            tiles.append(None)
            continue
        try:
            tile = int(v)
        except ValueError:
            raise LowlightError(f"--tiles: {v!r} is neither auto nor a tile size in px") from None
        if tile < 0:
            raise LowlightError(f"--tiles: {tile} is negative (0 means never tile)")
        tiles.append(tile)
    return tiles


def usable_precisions(precisions: list[str], device_type: str) -> list[str]:
    """fp16 runs on CUDA only: dropped on a CPU, and an error when nothing else is left."""
    from lowlight_cli.errors import DeviceError

    usable = [p for p in precisions if not (p == "fp16" and device_type == "cpu")]
    if not usable:
        raise DeviceError(
            "--precisions fp16 needs a CUDA device; this run is on the CPU (use --precisions fp32)"
        )
    return usable


@dataclass(frozen=True)
class Case:
    backend: str
    precision: str
    """fp32 or fp16 (CUDA only)."""
    tile: int | None
    """Tile core size; None = the Enhancer's automatic choice."""
    megapixels: float
    quality: str = "full"
    """full, or fast (the network on a small copy, guided upsampling)."""


@dataclass(frozen=True)
class Result:
    case: Case
    width: int
    height: int
    tiles: int
    seconds: float
    mp_per_s: float
    peak_rss_mib: float
    peak_cuda_mib: float | None
    description: str


def image_size(megapixels: float) -> tuple[int, int]:
    if megapixels in SIZES:
        return SIZES[megapixels]
    w = round(math.sqrt(megapixels * 1e6 * 1.5))
    return w, round(megapixels * 1e6 / w)


def test_image(width: int, height: int) -> np.ndarray:
    """A dark, noisy, smooth-ish frame; the network's cost does not depend on content, only on size (a dark
    frame also keeps gated weights' attention gate open, so the local stages run)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 0.15 * (0.5 + 0.5 * np.sin(xx / 97.0) * np.cos(yy / 61.0))
    return (base[..., None] + 0.02 * rng.random((height, width, 3), dtype=np.float32)).astype(np.float32)


def _peak_rss_mib() -> float:
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB on Linux


def run_case(case: Case, weights: str, device: str, repeats: int) -> Result:
    """Measure one case in this process (call it in a fresh one: peak RSS is per process)."""
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.tiling import plan_tiles

    enhancer = Enhancer(
        weights,
        device=device,
        precision=case.precision,
        tile=case.tile,
        backend=case.backend,
        quality=case.quality,
    )
    enhancer.enhance(test_image(256, 256))  # warm-up: session creation, allocator, kernel selection
    cuda = enhancer.backend.device_type == "cuda" and case.backend == "torch"
    if cuda:
        import torch

        torch.cuda.reset_peak_memory_stats()
    w, h = image_size(case.megapixels)
    rgb = test_image(w, h)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        enhancer.enhance(rgb)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    m = enhancer.backend.local_multiple
    canvas = (-(-h // m) * m, -(-w // m) * m)
    tiles = len(plan_tiles(*canvas, enhancer.tile_size(*canvas), enhancer.margin, 16, m))
    peak_cuda = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
    return Result(
        case, w, h, tiles, seconds, w * h / 1e6 / seconds, _peak_rss_mib(), peak_cuda, enhancer.description
    )


def run_isolated(case: Case, weights: str, device: str, repeats: int) -> Result:
    """`run_case` in a fresh spawned process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_case, case, weights, device, repeats).result()


def video_fps(
    video: Path,
    backend: str,
    precision: str,
    weights: str,
    device: str,
    seconds: float,
    out_dir: Path,
    quality: str = "full",
) -> dict:
    """Frames per second of `lowlight video`'s pipeline on the first `seconds` of `video`, decode and encode included."""
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.video.pipeline import VideoOptions, enhance_video, plan

    enhancer = Enhancer(weights, device=device, precision=precision, backend=backend, quality=quality)
    name = f"bench_{backend}_{precision}_{quality}{video.suffix}"
    job = plan(video, out_dir / name, VideoOptions(end=seconds, fast=quality == "fast"), overwrite=True)
    report = enhance_video(enhancer, job)
    (out_dir / job.output.name).unlink(missing_ok=True)
    info = job.info
    return {
        "video": video.name,
        "backend": backend,
        "precision": precision,
        "quality": quality,
        "size": f"{info.width}x{info.height}",
        "frames": report.frames,
        "seconds": report.seconds,
        "fps": report.fps,
        "description": enhancer.description,
        "encoder": job.settings.speed_label,
    }


def folder_vs_model(
    weights: str, device: str, backend: str, precision: str, megapixels: float, count: int, work: Path
) -> dict:
    """`lowlight enhance` on a folder of `count` JPEGs (decode, enhance, encode, pipelined) against the model
    alone on the same decoded images, in this process; both after one warm-up image."""
    import tempfile

    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.files import enhance_items
    from lowlight_cli.io.images import ImageMeta, read_image, write_image
    from lowlight_cli.io.paths import collect_inputs

    w, h = image_size(megapixels)
    work.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.TemporaryDirectory(
        prefix=".folder-bench-", dir=work
    )  # the JPEGs are not part of the report
    src, out = Path(scratch.name) / "in", Path(scratch.name) / "out"
    src.mkdir()
    meta = ImageMeta("JPEG", 8, False)
    for i in range(count):
        write_image(src / f"{i:03d}.jpg", np.roll(test_image(w, h), 37 * i, axis=1), meta, quality=90)
    enhancer = Enhancer(weights, device=device, precision=precision, backend=backend)
    enhancer.enhance(test_image(256, 256))
    images = [read_image(p)[0] for p in sorted(src.glob("*.jpg"))]
    start = time.perf_counter()
    for rgb in images:
        enhancer.enhance(rgb)
    model = time.perf_counter() - start
    start = time.perf_counter()
    outcomes = list(enhance_items(enhancer, collect_inputs([str(src)]), out, "", overwrite=True))
    folder = time.perf_counter() - start
    written = len(list(out.glob("*.jpg")))
    scratch.cleanup()
    if any(o.status != "done" for o in outcomes):
        raise RuntimeError(f"bench folder run failed: {[o.error for o in outcomes if o.error]}")
    return {
        "images": count,
        "written": written,
        "size": f"{w}x{h}",
        "model_s": model,
        "folder_s": folder,
        "ratio": model / folder,
    }


def authors_graph_case(graph: Path, megapixels: float, repeats: int) -> dict:
    """Seconds and peak RSS of the authors' released graph (`../shared/data/reference/agllnet_official`, fixed
    at 256x256) on onnxruntime's CPU provider, its height and width made free; the input is padded to multiples
    of 128 as its downsampling needs. Its Resize nodes carry fixed target sizes of the 256x256 grid (each one an
    x2 upsampling), so they are given scales of 2 instead. Call in a fresh process (peak RSS)."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    model = onnx.load(str(graph))
    scales = "lowlight_bench_scales_x2"
    model.graph.initializer.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), scales))
    for node in model.graph.node:
        if node.op_type == "Resize" and len(node.input) == 4:  # X, roi, scales (empty), sizes
            node.input[2] = scales
            del node.input[3]
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "height", "width"
    for value in model.graph.output:
        dims = value.type.tensor_type.shape.dim
        dims[1].dim_param, dims[2].dim_param = "height", "width"
    del model.graph.value_info[:]
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the unused size constants are reported as warnings
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    session.run(None, {name: np.zeros((1, 3, 256, 256), np.float32)})
    w, h = image_size(megapixels)
    x = test_image(-(-w // 128) * 128, -(-h // 128) * 128).transpose(2, 0, 1)[None].copy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {name: x})
        times.append(time.perf_counter() - start)
    return {
        "graph": graph.name,
        "size": f"{x.shape[3]}x{x.shape[2]}",
        "seconds": float(np.median(times)),
        "peak_rss_mib": _peak_rss_mib(),
    }


def _isolated(fn, *args):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def ratios(
    weights: str,
    device: str,
    megapixels: float,
    repeats: int,
    work: Path,
    authors_graph: Path | None = None,
    folder_images: int = 4,
    log=print,
) -> dict:
    """The speed ratios of one run: fp16/fp32 (CUDA), fast/full and (CPU) ours/the authors' graph as throughput ratios
    of fresh-process cases at `megapixels`, and folder/model-only throughput of `lowlight enhance`."""
    cuda = device.startswith("cuda")
    base = Case("onnx", "fp32", None, megapixels)
    cases = {"fp32": base, "fast": dataclasses.replace(base, quality="fast")}
    if cuda:
        cases["fp16"] = dataclasses.replace(base, precision="fp16")
    results = {}
    for key, case in cases.items():
        log(f"ratios: {case}")
        results[key] = run_isolated(case, weights, device, repeats)
    full = results["fp32"]
    rows = [
        {
            "ratio": "fast/full (speed)",
            "value": full.seconds / results["fast"].seconds,
            "detail": f"{results['fast'].seconds:.2f} s vs {full.seconds:.2f} s",
        }
    ]
    if cuda:
        rows.insert(
            0,
            {
                "ratio": "fp16/fp32 (speed)",
                "value": full.seconds / results["fp16"].seconds,
                "detail": f"{results['fp16'].seconds:.2f} s vs {full.seconds:.2f} s",
            },
        )
    log("ratios: folder vs model only")
    folder = _isolated(folder_vs_model, weights, device, "onnx", "fp32", megapixels, folder_images, work)
    rows.append(
        {
            "ratio": "folder/model-only (throughput)",
            "value": folder["ratio"],
            "detail": f"{folder['images']} JPEGs {folder['size']}: {folder['folder_s']:.2f} s vs {folder['model_s']:.2f} s",
        }
    )
    authors = None
    if authors_graph is not None and not cuda:
        log(f"ratios: authors' graph {authors_graph}")
        authors = _isolated(authors_graph_case, authors_graph, megapixels, repeats)
        rows.append(
            {
                "ratio": "ours/authors' graph (speed)",
                "value": authors["seconds"] / full.seconds,
                "detail": f"{full.seconds:.2f} s vs {authors['seconds']:.2f} s ({authors['size']}); peak RSS "
                f"{full.peak_rss_mib:.0f} vs {authors['peak_rss_mib']:.0f} MiB",
            }
        )
        rows.append(
            {
                "ratio": "authors' graph/ours (peak memory)",
                "value": authors["peak_rss_mib"] / full.peak_rss_mib,
                "detail": f"{authors['peak_rss_mib']:.0f} MiB vs {full.peak_rss_mib:.0f} MiB",
            }
        )
    return {
        "megapixels": megapixels,
        "rows": rows,
        "cases": {k: asdict(r) for k, r in results.items()},
        "folder": folder,
        "authors": authors,
    }


def ratios_markdown(ratio: dict) -> str:
    lines = ["| ratio (higher = ours/new is better) | value | measured |", "| --- | --- | --- |"]
    lines += [f"| {r['ratio']} | {r['value']:.2f}x | {r['detail']} |" for r in ratio["rows"]]
    return "\n".join(lines) + "\n"


def hardware() -> str:
    """CPU model and core count, plus the GPU when torch sees one (torch is only asked if already imported)."""
    import os
    import sys

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    text = f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        text += f", {torch.cuda.get_device_name()}"
    return text


def markdown(results: list[Result], videos: list[dict]) -> str:
    lines = [
        "| backend | precision | quality | tile | image | tiles | s | MP/s | peak RSS MiB | peak CUDA MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        c = r.case
        cuda = f"{r.peak_cuda_mib:.0f}" if r.peak_cuda_mib is not None else "-"
        lines.append(
            f"| {c.backend} | {c.precision} | {c.quality} | {c.tile or 'auto'} | {r.width}x{r.height} ({c.megapixels:g} MP) | {r.tiles} "
            f"| {r.seconds:.2f} | {r.mp_per_s:.3f} | {r.peak_rss_mib:.0f} | {cuda} |"
        )
    if videos:
        lines += [
            "",
            "| video | backend | precision | quality | encoder | size | frames | s | fps |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {v['video']} | {v['backend']} | {v['precision']} | {v.get('quality', 'full')} | {v.get('encoder', '-')} "
            f"| {v['size']} | {v['frames']} | {v['seconds']:.1f} | {v['fps']:.2f} |"
            for v in videos
        ]
    return "\n".join(lines) + "\n"


def write_reports(
    out_dir: Path, results: list[Result], videos: list[dict], command: str, ratio: dict | None = None
) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "hardware": hardware(), "command": command}
    md = out_dir / "bench.md"
    extra = "\n" + ratios_markdown(ratio) if ratio else ""
    md.write_text(
        f"Date: {meta['date']}  \nHardware: {meta['hardware']}  \nCommand: `{command}`\n\n"
        + markdown(results, videos)
        + extra
    )
    js = out_dir / "bench.json"
    js.write_text(
        json.dumps(
            {**meta, "images": [asdict(r) for r in results], "videos": videos, "ratios": ratio}, indent=2
        )
        + "\n"
    )
    return md, js
