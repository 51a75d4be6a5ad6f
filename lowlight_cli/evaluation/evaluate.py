"""`lowlight eval`: how weights and baselines do on a folder of photos, paired or not.

Data: a folder with `low/` and `high/` holding same-named images (LOL layout), a `lowlight synth` folder
(its manifest's test split, loose or in tar shards), or any folder or glob of photos; pairs are read through
the pair store (`synth.store`), as training reads them. Every image gets the look metrics of
`evaluation.look` (exposure, clipping, colour shift, chroma, contrast, noise: output against its own
input); pairs add PSNR and SSIM against the normal image, and `self_target` makes each photo its own
target (the do-no-harm check on well-exposed photos). Reports: per_image.csv, summary.csv, summary.md and
a contact sheet PNG (input | each method, a row per image). Besides the look metrics: the black level
(1st-percentile L*) and its change, NIQE (`evaluation.niqe`), and for pairs GT-mean PSNR/SSIM (`gt_mean`).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lowlight_cli.errors import LowlightError
from lowlight_cli.evaluation.look import METRICS
from lowlight_cli.inference import DEFAULT_BACKEND
from lowlight_cli.io.images import read_rgb
from lowlight_cli.synth.store import PairRecord, iter_pairs, pair_layout, read_pair

if TYPE_CHECKING:  # the enhancer (and its backend) loads only when weights are evaluated
    from lowlight_cli.inference.enhancer import Enhancer

Method = Callable[[np.ndarray], np.ndarray]
"""HxWx3 float32 RGB in [0, 1] -> enhanced image, same shape, in [0, 1]."""
COLUMNS = (
    "method",
    "image",
    "psnr",
    "ssim",
    "psnr_gt_mean",
    "ssim_gt_mean",
    "in_luma",
    *METRICS,
    "in_noise",
    "seconds",
)
NUMERIC = COLUMNS[2:]
RATIOS = ("chroma_ratio", "contrast_ratio", "local_contrast", "black", "black_change", "niqe")
"""Summarised by their median: one nearly grey photo has a tiny reference chroma and a ratio of 10 or more;
the black level and NIQE as the low-light literature reports them (a median over the images)."""
PSNR_CAP = 100.0
"""dB: an output identical to its target (a baseline leaving a bright photo alone) has infinite PSNR; means
use this."""


@dataclass(frozen=True)
class Sample:
    """One image to evaluate: a stored pair (real or synthesized, read through `synth.store`) or a photo."""

    name: str
    root: Path | None = None
    """The folder of `pair`."""
    pair: PairRecord | None = None
    photo: Path | None = None
    """A photo without a stored pair: its own target with `self_target`, else unpaired (look metrics only)."""
    self_target: bool = False

    @property
    def where(self) -> str:
        """The file (or the shard) to name in a message about this sample."""
        if self.pair is not None and self.root is not None:
            shard, low = self.pair.shard, self.pair.files["low"]
            return f"{self.root / shard}:{low}" if shard else str(self.root / low)
        return str(self.photo)

    def read(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(input, target or None) as float32 HxWx3 RGB in [0, 1], read as training reads them."""
        if self.pair is not None and self.root is not None:
            images = read_pair(self.root, self.pair, ("low", "high"))
            return images["low"], images["high"]
        if self.photo is None:
            raise ValueError(f"{self.name}: a sample needs a pair or a photo")
        rgb = read_rgb(self.photo)
        return rgb, (rgb.copy() if self.self_target else None)


def find_samples(
    data: str | Path, split: str | None = None, self_target: bool = False, limit: int | None = None
) -> list[Sample]:
    """The pairs of a LOL-layout folder (all of them unless `split` is `train` or `test`, the held-out
    rule of `synth.store.real_split`), of a synth folder's `split` (default `test`; loose or in tar shards),
    or the photos of any other folder or glob (each its own target with `self_target`, else unpaired); only
    the first `limit` of them when given."""
    from lowlight_cli.synth.sources import folder_or_glob

    if limit is not None and limit < 1:
        raise LowlightError(f"limit {limit}: must be at least 1", param="limit")
    path = Path(data)
    layout = pair_layout(path)
    if layout is not None:
        split = split or ("test" if layout == "synth" else "all")
        samples = [Sample(r.name, root=path, pair=r) for r in iter_pairs(path, split)]
    else:
        samples = [Sample(s.rel, photo=s.path, self_target=self_target) for s in folder_or_glob(str(data))]
    if not samples:
        raise LowlightError(
            f"{data}: no images found (expected photos, low/ + high/ folders, or a synth folder "
            f"with a {split or 'test'} split)"
        )
    return samples[:limit]


def _network(enhancer: Enhancer) -> Method:
    """The Enhancer as a method: an image in, its enhanced image out."""
    return lambda rgb: enhancer.enhance(rgb).image


def make_methods(
    weights: Iterable[str],
    baselines: Iterable[str],
    backend: str = DEFAULT_BACKEND,
    device: str = "auto",
    precision: str | None = None,
    tile: int | None = None,
    gate: bool = True,
) -> dict[str, Method]:
    """Label -> method: each weights reference through `Enhancer`, each baseline by name."""
    from lowlight_cli.evaluation.baselines import BASELINES

    methods: dict[str, Method] = {}
    for name in baselines:
        if name not in BASELINES:
            raise LowlightError(
                f"baselines {name!r}: unknown (available: {', '.join(BASELINES)})", param="baselines"
            )
        methods[name] = BASELINES[name]
    for ref in weights:
        from lowlight_cli.inference.enhancer import Enhancer

        enhancer = Enhancer(ref, device=device, backend=backend, precision=precision, tile=tile, gate=gate)
        label = ref if backend == DEFAULT_BACKEND else f"{ref} ({backend})"
        methods[label] = _network(enhancer)
    if not methods:
        raise LowlightError("nothing to evaluate: give `weights` and/or `baselines`")
    return methods


@dataclass
class EvalPlan:
    """What `lowlight eval` runs, every option checked: the samples and the methods (weights loaded)."""

    samples: list[Sample]
    methods: dict[str, Method]


def plan(
    data: str | Path,
    out: str | Path,
    weights: Iterable[str] = (),
    baselines: Iterable[str] = (),
    *,
    split: str | None = None,
    self_target: bool = False,
    limit: int | None = None,
    backend: str = DEFAULT_BACKEND,
    device: str = "auto",
    precision: str | None = None,
    tile: int | None = None,
    gate: bool = True,
) -> EvalPlan:
    """Everything `lowlight eval` checks before the work: the reports' folder `out` can be written (a
    read-only or full one is one error before any image is read, not after the run), the samples of `data`
    (`find_samples`: `split`, `self_target`, the first `limit`), and the methods (`make_methods`). Then
    `evaluate(plan.samples, plan.methods)`, `summarize` and `write_reports(..., out, ...)`."""
    from lowlight_cli.io.atomic import check_writable_dir

    check_writable_dir(out)
    samples = find_samples(data, split, self_target, limit)
    methods = make_methods(weights, baselines, backend, device, precision, tile, gate)
    return EvalPlan(samples, methods)


def evaluate(
    samples: list[Sample],
    methods: dict[str, Method],
    on_image: Callable[[], None] | None = None,
    sheet_rows: list | None = None,
    sheet_height: int = 0,
    max_side: int | None = None,
) -> list[dict]:
    """One row per (method, image): look metrics of the clipped output against its input, plus PSNR and
    SSIM against the target when there is one. With `sheet_rows` (a list), one row of thumbnails
    `sheet_height` px high (input, then each method) is appended to it per image. `max_side` scales larger
    images (input and target alike, area interpolation) down to that longer side first."""
    import torch

    from lowlight_cli.evaluation.look import immerkaer_noise_sigma, look_metrics, mean_luma
    from lowlight_cli.evaluation.metrics import psnr, ssim
    from lowlight_cli.evaluation.sheet import thumbnail

    rows = []
    for sample in samples:
        low, high = sample.read()
        if high is not None and low.shape != high.shape:
            raise LowlightError(
                f"{sample.where}: size {low.shape[:2]} differs from its high image {high.shape[:2]}"
            )
        low = _fit(low, max_side)
        high = _fit(high, max_side) if high is not None else None
        target = torch.from_numpy(high).permute(2, 0, 1)[None] if high is not None else None
        base = {"image": sample.name, "in_luma": mean_luma(low), "in_noise": immerkaer_noise_sigma(low)}
        thumbs = [thumbnail(low, sheet_height)] if sheet_rows is not None else []
        for label, method in methods.items():
            tic = time.perf_counter()
            out = np.clip(method(low), 0, 1).astype(np.float32)
            seconds = time.perf_counter() - tic
            row = {
                "method": label,
                **base,
                **look_metrics(low, out),
                "seconds": seconds,
                "psnr": None,
                "ssim": None,
                "psnr_gt_mean": None,
                "ssim_gt_mean": None,
            }
            if target is not None and high is not None:
                pred = torch.from_numpy(np.ascontiguousarray(out)).permute(2, 0, 1)[None]
                scaled = torch.from_numpy(gt_mean(out, high)).permute(2, 0, 1)[None]
                row.update(
                    psnr=psnr(pred, target),
                    ssim=ssim(pred, target),
                    psnr_gt_mean=psnr(scaled, target),
                    ssim_gt_mean=ssim(scaled, target),
                )
            rows.append(row)
            if sheet_rows is not None:
                thumbs.append(thumbnail(out, sheet_height))
            if on_image:
                on_image()
        if sheet_rows is not None:
            sheet_rows.append(thumbs)
    return rows


def gt_mean(out: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`out` scaled so that its mean grey (Rec.601 luma) equals the target's, clipped to [0, 1]: the GT-mean
    convention of KinD, LLFlow and Retinexformer, which scores the restoration apart from the exposure
    chosen."""
    from lowlight_cli.colour import mean_luma

    scale = mean_luma(target) / max(mean_luma(out), 1e-6)
    return np.ascontiguousarray(np.clip(out * np.float32(scale), 0, 1), np.float32)


def _fit(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return rgb
    scale = max_side / max(h, w)
    return cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def summarize(rows: list[dict]) -> list[dict]:
    """Mean of every numeric column per method, in the order the methods first appear (None where a
    column does not apply, e.g. PSNR without targets), the median for RATIOS; NaN entries (a grey input has no
    chroma) are left out, and an unchanged image's infinite PSNR counts as PSNR_CAP."""
    summary = []
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        mean = {}
        for k in NUMERIC:
            values = [
                min(r[k], PSNR_CAP) if k.startswith("psnr") else r[k]
                for r in mine
                if r.get(k) is not None and not np.isnan(r[k])
            ]
            mean[k] = float((np.median if k in RATIOS else np.mean)(values)) if values else None
        summary.append({"method": method, "images": len(mine), **mean})
    return summary


def _fmt(value: float | None, spec: str, scale: float = 1.0) -> str:
    return "" if value is None else format(value * scale, spec)


def markdown_table(summary: list[dict]) -> str:
    paired = any(s["psnr"] is not None for s in summary)
    head = [
        "method",
        "images",
        *(["PSNR (dB)", "SSIM", "GT-mean PSNR", "GT-mean SSIM"] if paired else []),
        "black L* (median)",
        "black Δ (median)",
        "NIQE (median)",
        "luma in",
        "luma out",
        "clipped %",
        "newly clipped %",
        "Δa*",
        "Δb*",
        "Δa*b* (size)",
        "chroma × (median)",
        "contrast × (median)",
        "local contrast × (median)",
        "noise in",
        "noise out",
        "s/image",
    ]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for s in summary:
        cells = [s["method"], str(s["images"])]
        if paired:
            cells += [
                _fmt(s["psnr"], ".2f"),
                _fmt(s["ssim"], ".4f"),
                _fmt(s.get("psnr_gt_mean"), ".2f"),
                _fmt(s.get("ssim_gt_mean"), ".4f"),
            ]
        cells += [
            _fmt(s.get("black"), ".1f"),
            _fmt(s.get("black_change"), "+.1f"),
            _fmt(s.get("niqe"), ".2f"),
            _fmt(s["in_luma"], ".3f"),
            _fmt(s["luma"], ".3f"),
            _fmt(s["clipped"], ".2f", 100),
            _fmt(s["clipped_new"], ".2f", 100),
            _fmt(s["delta_a"], "+.2f"),
            _fmt(s["delta_b"], "+.2f"),
            _fmt(s["delta_ab"], ".2f"),
            _fmt(s["chroma_ratio"], ".2f"),
            _fmt(s["contrast_ratio"], ".2f"),
            _fmt(s["local_contrast"], ".2f"),
            _fmt(s["in_noise"], ".4f"),
            _fmt(s["noise"], ".4f"),
            _fmt(s["seconds"], ".2f"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


UNMEASURED = {
    "niqe": ("NIQE", "it needs at least 96x96 px with some texture"),
    "chroma_ratio": ("chroma ×", "the input brightened is nearly grey"),
    "contrast_ratio": ("contrast ×", "the input brightened is flat"),
    "local_contrast": ("local contrast ×", "the input brightened is flat"),
}
"""Look metrics that are NaN for some images, with the reason; the summary leaves those images out."""


def unmeasured_notes(rows: list[dict]) -> list[str]:
    """One line per metric of UNMEASURED that some image could not be scored on: on how many of how many
    images of which methods, and why; and one line for the methods whose rows lack columns other methods have
    (rows measured before those columns existed, kept by look_benchmark.py --merge). So an empty or partial
    figure in the table is never silent."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    notes = []
    for column, (name, why) in UNMEASURED.items():
        missing = {}
        for method in methods:
            mine = [r.get(column) for r in rows if r["method"] == method]
            n = sum(v is not None and np.isnan(v) for v in mine)
            if n:
                missing[method] = f"{n} of {len(mine)}"
        if missing:
            where = ", ".join(f"{method} {count}" for method, count in missing.items())
            notes.append(
                f"{name} not measured on some images ({where}): {why}; its figure is over the others, "
                "empty if none."
            )
    present = {k for r in rows for k in NUMERIC if r.get(k) is not None}
    older: dict[tuple[str, ...], list[str]] = {}
    for method in methods:
        lacking = tuple(
            k
            for k in NUMERIC
            if k in present and all(r.get(k) is None for r in rows if r["method"] == method)
        )
        if lacking:
            older.setdefault(lacking, []).append(method)
    for lacking, names in older.items():
        notes.append(
            f"{', '.join(lacking)}: not in the rows of {', '.join(names)} (measured before these columns "
            "existed, or without a target)."
        )
    return notes


def report_text(summary: list[dict], rows: list[dict]) -> str:
    """The summary table, then a line for each metric some images could not be scored on
    (`unmeasured_notes`)."""
    notes = unmeasured_notes(rows)
    return markdown_table(summary) + ("\n" + "\n".join(f"- {n}" for n in notes) + "\n" if notes else "")


def write_reports(
    rows: list[dict],
    summary: list[dict],
    out: Path,
    sheet_rows: list | None = None,
    labels: tuple[str, ...] = (),
) -> None:
    """per_image.csv, summary.csv, summary.md and, with `sheet_rows`, sheet.png (columns `labels`)."""
    from lowlight_cli.io.atomic import atomic_path

    for name, columns, records in (
        ("per_image.csv", COLUMNS, rows),
        ("summary.csv", ("method", "images", *NUMERIC), summary),
    ):
        with atomic_path(out / name) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows({k: ("" if r.get(k) is None else r[k]) for k in columns} for r in records)
    with atomic_path(out / "summary.md") as tmp:
        tmp.write_text(report_text(summary, rows))
    if sheet_rows:
        from lowlight_cli.evaluation.sheet import contact_sheet

        contact_sheet(sheet_rows, ("input", *labels), out / "sheet.png")
