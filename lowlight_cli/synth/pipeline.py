"""The dataset-scale run: stream sources through worker processes, write pairs atomically, resume.

Determinism: each image's RNG is seeded from (seed, its relative path) and results are journaled in
source order, so the output is byte-identical for any number of workers. Shard and split come from a
hash of the relative path alone, so they never change between runs or machines.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

import numpy as np

from lowlight_cli.errors import LowlightError
from lowlight_cli.io.atomic import atomic_path
from lowlight_cli.synth.manifest import Shard, append_jsonl, files_exist, journal_paths, read_jsonl, rewrite_jsonl
from lowlight_cli.synth.pairs import KINDS
from lowlight_cli.synth.settings import SynthSettings
from lowlight_cli.synth.sources import Source

IN_FLIGHT_PER_WORKER = 4
"""Bounded queue: at most this many images per worker are decoded or pending at once."""


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def image_id(rel: str) -> str:
    """Readable and unique: the path without suffix, '/' -> '__', plus 6 hex digits of its hash."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", rel.rsplit(".", 1)[0].replace("/", "__"))
    return f"{stem}-{_hash(rel) & 0xFFFFFF:06x}"


def shard_of(rel: str, n: int) -> int:
    """1-based shard number of `rel` among `n`."""
    return _hash(f"shard:{rel}") % n + 1


def split_of(rel: str, test_fraction: float) -> str:
    return "test" if _hash(f"split:{rel}") / 2**64 < test_fraction else "train"


def rng_for(seed: int, rel: str) -> np.random.Generator:
    return np.random.default_rng([seed, _hash(f"rng:{rel}")])


@dataclass
class Summary:
    written: int = 0
    resumed: int = 0
    rejected: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


def decode(path: Path) -> np.ndarray:
    """uint8 HxWx3 RGB with EXIF orientation applied; Pillow raises on truncated files."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im.load()
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def process(source: Source, out: Path, settings: SynthSettings) -> dict:
    """Select, synthesize and write one image; returns its journal record (never raises)."""
    try:
        rgb = decode(source.path)
    except Exception as exc:  # any decoder failure means an unreadable source, reported, not fatal
        return {"source": source.rel, "status": "failed", "reason": f"unreadable: {exc}"}
    try:
        return _select_and_write(source, rgb, out, settings)
    except Exception as exc:
        return {"source": source.rel, "status": "failed", "reason": f"{type(exc).__name__}: {exc}"}


def _select_and_write(source: Source, rgb: np.ndarray, out: Path, settings: SynthSettings) -> dict:
    import cv2

    from lowlight_cli.synth.pairs import synthesize
    from lowlight_cli.synth.select import evaluate
    from lowlight_cli.synth.targets import encode_noise

    verdict = evaluate(rgb, settings)
    if not verdict.kept:
        return {"source": source.rel, "status": "rejected", "failed": list(verdict.failed), "metrics": verdict.metrics}
    pair = synthesize(rgb.astype(np.float32) / 255.0, rng_for(settings.seed, source.rel), settings, quantize=True)
    split, pid = split_of(source.rel, settings.test_fraction), image_id(source.rel)
    files = {kind: f"{split}/{kind}/{pid}.png" for kind in KINDS}
    for kind in KINDS:
        array = getattr(pair, kind)
        if kind == "noise":
            pixels = encode_noise(array)[..., ::-1]
        elif kind == "attention":
            pixels = np.round(array * 65535).astype(np.uint16)
        else:
            pixels = np.round(array * 255).astype(np.uint8)[..., ::-1]
        with atomic_path(out / files[kind]) as tmp:
            if not cv2.imwrite(str(tmp), np.ascontiguousarray(pixels)):
                raise OSError(f"cannot write {out / files[kind]}")
    h, w = rgb.shape[:2]
    return {"source": source.rel, "status": "pair", "id": pid, "split": split, "size": [w, h],
            "params": pair.params, "metrics": verdict.metrics, "files": files}


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # the pool is the parallelism; nested threads only oversubscribe


def select_sources(sources: Iterable[Source], shard: Optional[Shard], limit: Optional[int]) -> Iterator[Source]:
    """This run's share of `sources`: its shard, then at most `limit` of them, in source order."""
    count = 0
    for source in sources:
        if limit is not None and count >= limit:
            return
        if shard and shard_of(source.rel, shard[1]) != shard[0]:
            continue
        count += 1
        yield source


def _check_settings(out: Path, settings: SynthSettings) -> None:
    """A folder holds one dataset: resuming with other settings would silently mix two."""
    path = out / "settings.json"
    wanted = settings.to_dict()
    if path.exists():
        found = json.loads(path.read_text())
        if found != json.loads(json.dumps(wanted)):
            diff = sorted(k for k in wanted if found.get(k) != json.loads(json.dumps(wanted[k])))
            raise LowlightError(f"{out} was made with other settings ({', '.join(diff)}); use another --out")
        return
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(wanted, indent=2, sort_keys=True) + "\n")


def _resume_state(out: Path, manifest: Path, skipped: Path) -> dict[str, dict]:
    """Finished records by source; journals are rewritten without torn lines, pairs with missing
    files and failures (those are retried)."""
    pairs = {r["source"]: r for r in read_jsonl(manifest) if r.get("status") == "pair" and files_exist(out, r)}
    rejected = {r["source"]: r for r in read_jsonl(skipped) if r.get("status") == "rejected"}
    rewrite_jsonl(manifest, pairs.values())
    rewrite_jsonl(skipped, rejected.values())
    return pairs | rejected


def run(
    sources: Iterable[Source],
    out: Path,
    settings: SynthSettings,
    workers: int = 1,
    limit: Optional[int] = None,
    shard: Optional[Shard] = None,
    on_record: Optional[Callable[[dict, bool], None]] = None,
) -> Summary:
    """Synthesize pairs from `sources` into `out`. `workers=0` runs in this process.

    `on_record(record, resumed)` is called once per source in source order (for progress bars).
    """
    from lowlight_cli.io.atomic import check_writable_dir

    check_writable_dir(out)  # a read-only or full --out is one line before any work
    out.mkdir(parents=True, exist_ok=True)
    _check_settings(out, settings)
    manifest, skipped = journal_paths(out, shard)
    done = _resume_state(out, manifest, skipped)
    summary = Summary()

    def finish(record: dict, resumed: bool) -> None:
        if not resumed:
            append_jsonl(manifest if record["status"] == "pair" else skipped, record)
        status = record["status"]
        if resumed:
            summary.resumed += 1
        elif status == "pair":
            summary.written += 1
        elif status == "rejected":
            summary.rejected += 1
        else:
            summary.failed += 1
            summary.failures.append(f"{record['source']}: {record['reason']}")
        if on_record:
            on_record(record, resumed)

    todo = select_sources(sources, shard, limit)
    if workers == 0:
        for source in todo:
            finish(*(done[source.rel], True) if source.rel in done else (process(source, out, settings), False))
        return summary

    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    pending: deque[tuple[Optional[Future], Optional[dict]]] = deque()
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
    try:
        for source in todo:
            if source.rel in done:
                pending.append((None, done[source.rel]))
            else:
                pending.append((pool.submit(process, source, out, settings), None))
            while len(pending) > workers * IN_FLIGHT_PER_WORKER or (pending and pending[0][0] is None):
                _drain_one(pending, finish)
        while pending:
            _drain_one(pending, finish)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C only the running images finish
    return summary


def _drain_one(pending: deque, finish: Callable[[dict, bool], None]) -> None:
    future, record = pending.popleft()
    finish(future.result() if future else record, future is None)
