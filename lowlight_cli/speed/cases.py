"""One measured case (backend x precision x tile size x image size) and video fps.

Every image case runs in a fresh (spawned) process, so its peak RSS is its own and not the maximum of
everything measured before it; the first call on a small image is excluded (session/allocator warm-up).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SIZES = {0.5: (960, 540), 2.0: (1920, 1080), 8.0: (3840, 2160), 24.0: (6000, 4000)}
"""Megapixels -> (width, height): qHD, 1080p, 4K UHD and a 24 MP camera frame; other sizes keep 3:2."""
DEFAULT_SIZES = {"cpu": (0.5, 2.0, 8.0), "cuda": (0.5, 2.0, 8.0, 24.0)}
MAX_MEGAPIXELS = 400.0
"""The largest size measured: read_image's decompression-bomb limit."""


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


def peak_rss_mib() -> float:
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
        fast=case.quality == "fast",
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
        case, w, h, tiles, seconds, w * h / 1e6 / seconds, peak_rss_mib(), peak_cuda, enhancer.description
    )


def run_isolated(case: Case, weights: str, device: str, repeats: int) -> Result:
    """`run_case` in a fresh spawned process."""
    return isolated(run_case, case, weights, device, repeats)


def isolated(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` in a fresh spawned process (its peak RSS is its own)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


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
    """Frames per second of `lowlight video`'s pipeline on the first `seconds` of `video`, decode and encode
    included."""
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.video.enhance import VideoOptions, enhance_video, plan

    enhancer = Enhancer(weights, device=device, precision=precision, backend=backend, fast=quality == "fast")
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
