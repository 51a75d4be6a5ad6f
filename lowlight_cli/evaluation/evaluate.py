"""`lowlight eval`: PSNR / SSIM / LPIPS and time per image of weights and baselines on paired data.

Data: a folder with `low/` and `high/` holding same-named images (LOL layout), or a `lowlight synth`
folder (its manifest's test split). Reports: per_image.csv, summary.csv and summary.md (a table).
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

import numpy as np

from lowlight_cli.errors import LowlightError
from lowlight_cli.inference import DEFAULT_BACKEND

Method = Callable[[np.ndarray], np.ndarray]
"""HxWx3 float32 RGB in [0, 1] -> enhanced image, same shape, in [0, 1]."""
COLUMNS = ("method", "image", "psnr", "ssim", "seconds")


@dataclass(frozen=True)
class Sample:
    name: str
    low: Path
    high: Path


def find_samples(data: Path, split: Optional[str] = None) -> list[Sample]:
    """The pairs of a LOL-layout folder (all of them unless `split` is `train` or `test`, the held-out
    rule of `training.data.real_split`), or of a synth folder's `split` (default `test`)."""
    data = Path(data)
    if (data / "low").is_dir() and (data / "high").is_dir():
        from lowlight_cli.training.data import real_pair_names

        samples = [Sample(n, data / "low" / n, data / "high" / n) for n in real_pair_names(data, split or "all")]
    else:
        from lowlight_cli.synth.manifest import load_pairs

        split = split or "test"
        samples = [Sample(r["id"], data / r["files"]["low"], data / r["files"]["high"])
                   for r in load_pairs(data) if r["split"] == split]
    if not samples:
        raise LowlightError(f"{data}: no pairs found (expected low/ + high/ folders or a synth manifest with a {split} split)")
    return samples


def make_methods(weights: Iterable[str], baselines: Iterable[str], backend: str = DEFAULT_BACKEND,
                 device: str = "auto") -> dict[str, Method]:
    """Label -> method: each weights reference through `Enhancer`, each baseline by name."""
    from lowlight_cli.evaluation.baselines import BASELINES

    methods: dict[str, Method] = {}
    for name in baselines:
        if name not in BASELINES:
            raise LowlightError(f"baseline {name!r}: unknown (available: {', '.join(BASELINES)})")
        methods[name] = BASELINES[name]
    for ref in weights:
        from lowlight_cli.inference.enhancer import Enhancer

        enhancer = Enhancer(ref, device=device, backend=backend)
        label = ref if backend == DEFAULT_BACKEND else f"{ref} ({backend})"
        methods[label] = lambda rgb, e=enhancer: e.enhance(rgb).image
    if not methods:
        raise LowlightError("nothing to evaluate: give --weights and/or --baseline")
    return methods


def evaluate(samples: list[Sample], methods: dict[str, Method],
             on_image: Optional[Callable[[], None]] = None) -> list[dict]:
    """One row per (method, image): metrics of the clipped output against the normal image."""
    import torch

    from lowlight_cli.evaluation.metrics import psnr, ssim
    from lowlight_cli.io.images import read_image

    rows = []
    for sample in samples:
        low, _ = read_image(sample.low)
        high, _ = read_image(sample.high)
        if low.shape != high.shape:
            raise LowlightError(f"{sample.low}: size {low.shape[:2]} differs from its high image {high.shape[:2]}")
        target = torch.from_numpy(high).permute(2, 0, 1)[None]
        for label, method in methods.items():
            tic = time.perf_counter()
            out = np.clip(method(low), 0, 1)
            seconds = time.perf_counter() - tic
            pred = torch.from_numpy(np.ascontiguousarray(out, np.float32)).permute(2, 0, 1)[None]
            rows.append({"method": label, "image": sample.name, "psnr": psnr(pred, target), "ssim": ssim(pred, target),
                         "seconds": seconds})
            if on_image:
                on_image()
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    """Mean of every column per method, in the order the methods first appear."""
    summary = []
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        mean = {k: float(np.mean([r[k] for r in mine])) if mine[0][k] is not None else None
                for k in ("psnr", "ssim", "seconds")}
        summary.append({"method": method, "images": len(mine), **mean})
    return summary


def markdown_table(summary: list[dict]) -> str:
    lines = ["| method | images | PSNR (dB) | SSIM | s/image |", "| --- | ---: | ---: | ---: | ---: |"]
    for s in summary:
        lines.append(f"| {s['method']} | {s['images']} | {s['psnr']:.2f} | {s['ssim']:.4f} | {s['seconds']:.3f} |")
    return "\n".join(lines) + "\n"


def write_reports(rows: list[dict], summary: list[dict], out: Path) -> None:
    from lowlight_cli.io.atomic import atomic_path

    out.mkdir(parents=True, exist_ok=True)
    for name, columns, records in (("per_image.csv", COLUMNS, rows),
                                   ("summary.csv", ("method", "images", *COLUMNS[2:]), summary)):
        with atomic_path(out / name) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, columns)
            writer.writeheader()
            writer.writerows({k: ("n/a" if r[k] is None else r[k]) for k in columns} for r in records)
    with atomic_path(out / "summary.md") as tmp:
        tmp.write_text(markdown_table(summary))
