"""`lowlight bench`: throughput and peak memory per backend x precision x tile size x image size, and video fps.

Every image case runs in a fresh (spawned) process, so its peak RSS is its own and not the maximum of
everything measured before it; the first call on a small image is excluded (session/allocator warm-up).
"""

from __future__ import annotations

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
        raise LowlightError(f"{option}: {', '.join(bad) or 'nothing given'} is not one of {', '.join(allowed)}")
    return names


def parse_sizes(text: str) -> list[float]:
    """`--sizes 0.5,2`: megapixels, each above 0 and at most MAX_MEGAPIXELS."""
    from lowlight_cli.errors import LowlightError

    sizes = []
    for v in (v.strip() for v in text.split(",")):
        try:
            size = float(v)
        except ValueError:
            raise LowlightError(f"--sizes: {v!r} is not a number of megapixels (e.g. --sizes 0.5,2,8)") from None
        if not 0 < size <= MAX_MEGAPIXELS:  # also refuses nan and inf
            raise LowlightError(f"--sizes: {v} megapixels is out of range (above 0, at most {MAX_MEGAPIXELS:g})")
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
        raise DeviceError("--precisions fp16 needs a CUDA device; this run is on the CPU (use --precisions fp32)")
    return usable


@dataclass(frozen=True)
class Case:
    backend: str
    precision: str
    """fp32 or fp16 (fp16 only on CUDA)."""
    tile: int | None
    """Tile core size; None = the Enhancer's automatic choice."""
    megapixels: float


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
    """A dark, noisy, smooth-ish frame; the network's cost does not depend on content, only on size."""
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

    enhancer = Enhancer(weights, device=device, half=case.precision == "fp16", tile=case.tile, backend=case.backend)
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
    return Result(case, w, h, tiles, seconds, w * h / 1e6 / seconds, _peak_rss_mib(), peak_cuda, enhancer.description)


def run_isolated(case: Case, weights: str, device: str, repeats: int) -> Result:
    """`run_case` in a fresh spawned process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_case, case, weights, device, repeats).result()


def video_fps(video: Path, backend: str, precision: str, weights: str, device: str, seconds: float, out_dir: Path) -> dict:
    """Frames per second of `lowlight video`'s pipeline on the first `seconds` of `video`, decode and encode included."""
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.video.pipeline import VideoOptions, enhance_video, plan

    enhancer = Enhancer(weights, device=device, half=precision == "fp16", backend=backend)
    job = plan(video, out_dir / f"bench_{backend}_{precision}{video.suffix}", VideoOptions(end=seconds), overwrite=True)
    report = enhance_video(enhancer, job)
    (out_dir / job.output.name).unlink(missing_ok=True)
    info = job.info
    return {
        "video": video.name, "backend": backend, "precision": precision, "size": f"{info.width}x{info.height}",
        "frames": report.frames, "seconds": report.seconds, "fps": report.fps, "description": enhancer.description,
    }


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
        "| backend | precision | tile | image | tiles | s | MP/s | peak RSS MiB | peak CUDA MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        c = r.case
        cuda = f"{r.peak_cuda_mib:.0f}" if r.peak_cuda_mib is not None else "-"
        lines.append(
            f"| {c.backend} | {c.precision} | {c.tile or 'auto'} | {r.width}x{r.height} ({c.megapixels:g} MP) | {r.tiles} "
            f"| {r.seconds:.2f} | {r.mp_per_s:.3f} | {r.peak_rss_mib:.0f} | {cuda} |"
        )
    if videos:
        lines += ["", "| video | backend | precision | size | frames | s | fps |", "| --- | --- | --- | --- | --- | --- | --- |"]
        lines += [
            f"| {v['video']} | {v['backend']} | {v['precision']} | {v['size']} | {v['frames']} | {v['seconds']:.1f} | {v['fps']:.2f} |"
            for v in videos
        ]
    return "\n".join(lines) + "\n"


def write_reports(out_dir: Path, results: list[Result], videos: list[dict], command: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "hardware": hardware(), "command": command}
    md = out_dir / "bench.md"
    md.write_text(f"Date: {meta['date']}  \nHardware: {meta['hardware']}  \nCommand: `{command}`\n\n" + markdown(results, videos))
    js = out_dir / "bench.json"
    js.write_text(json.dumps({**meta, "images": [asdict(r) for r in results], "videos": videos}, indent=2) + "\n")
    return md, js
