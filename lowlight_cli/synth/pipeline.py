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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lowlight_cli.errors import FileError, LowlightError
from lowlight_cli.io.atomic import atomic_path
from lowlight_cli.io.images import read_rgb
from lowlight_cli.synth.manifest import (
    Shard,
    append_jsonl,
    journal_paths,
    read_jsonl,
    rewrite_jsonl,
)
from lowlight_cli.synth.settings import SynthSettings
from lowlight_cli.synth.sources import Source
from lowlight_cli.synth.store import (
    PairRecord,
    ShardWriter,
    encode_pair,
    files_exist,
    loose_files,
    write_loose,
)

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


def process(source: Source, out: Path, settings: SynthSettings, tar: bool = False) -> dict:
    """Select, synthesize and write one image; returns its journal record (never raises).

    With `tar`, nothing is written: the record carries the encoded files under `blobs` for the one
    process that writes the shards (`Journal.finish`)."""
    try:
        rgb = read_rgb(source.path)
    except FileError as exc:
        return {"source": source.rel, "status": "failed", "reason": f"unreadable: {exc.reason}"}
    except Exception as exc:  # any decoder failure means an unreadable source, reported, not fatal
        return {"source": source.rel, "status": "failed", "reason": f"unreadable: {exc}"}
    try:
        return _select_and_write(source, rgb, out, settings, tar)
    except Exception as exc:
        return {"source": source.rel, "status": "failed", "reason": f"{type(exc).__name__}: {exc}"}


def _select_and_write(source: Source, rgb: np.ndarray, out: Path, settings: SynthSettings, tar: bool) -> dict:
    """`rgb`: the photo as `io.images.read_rgb` reads it (float32 in [0, 1])."""
    from lowlight_cli.synth.pairs import synthesize
    from lowlight_cli.synth.select import evaluate

    verdict = evaluate(rgb, settings)
    if not verdict.kept:
        return {
            "source": source.rel,
            "status": "rejected",
            "failed": list(verdict.failed),
            "metrics": verdict.metrics,
        }
    pair = synthesize(rgb, rng_for(settings.seed, source.rel), settings, quantize=True)
    split, pid = split_of(source.rel, settings.test_fraction), image_id(source.rel)
    h, w = rgb.shape[:2]
    record = PairRecord(
        name=pid,
        split=split,
        files=loose_files(split, pid),
        source=source.rel,
        size=(w, h),
        params=pair.params,
        metrics=verdict.metrics,
    )
    blobs = encode_pair(pair)
    if not tar:
        write_loose(out, record, blobs)
    line = record.to_json()
    return {**line, "blobs": blobs} if tar else line


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # the pool is the parallelism; nested threads only oversubscribe


def select_sources(sources: Iterable[Source], shard: Shard | None, limit: int | None) -> Iterator[Source]:
    """This run's share of `sources`: its shard, then at most `limit` of them, in source order."""
    count = 0
    for source in sources:
        if limit is not None and count >= limit:
            return
        if shard and shard_of(source.rel, shard[1]) != shard[0]:
            continue
        count += 1
        yield source


def settings_differ(out: Path, settings: SynthSettings) -> list[str] | None:
    """The settings whose values in the dataset folder `out` differ from `settings` (sorted names; [] when it
    was made with these); None when `out` has no settings.json yet."""
    path = out / "settings.json"
    if not path.exists():
        return None
    found, wanted = json.loads(path.read_text()), json.loads(json.dumps(settings.to_dict()))
    return sorted(k for k in wanted.keys() | found.keys() if found.get(k) != wanted.get(k))


def _check_settings(out: Path, settings: SynthSettings) -> None:
    """A folder holds one dataset: resuming with other settings would silently mix two."""
    diff = settings_differ(out, settings)
    if diff:
        raise LowlightError(
            f"{out} was made with other settings ({', '.join(diff)}); use another `out` folder"
        )
    if diff is None:
        with atomic_path(out / "settings.json") as tmp:
            tmp.write_text(json.dumps(settings.to_dict(), indent=2, sort_keys=True) + "\n")


def _resume_state(out: Path, manifest: Path, skipped: Path) -> dict[str, dict]:
    """Finished records by source; journals are rewritten without torn lines, pairs with missing
    files and failures (those are retried)."""
    pairs = {
        r["source"]: r
        for r in read_jsonl(manifest)
        if r.get("status") == "pair" and files_exist(out, PairRecord.from_json(r))
    }
    rejected = {r["source"]: r for r in read_jsonl(skipped) if r.get("status") == "rejected"}
    rewrite_jsonl(manifest, pairs.values())
    rewrite_jsonl(skipped, rejected.values())
    return pairs | rejected


class Journal:
    """A run's bookkeeping, shared by the local and the Ray runs: opens the folder (settings check, resume
    state), journals each finished record, counts it, and writes the tar shards when `tar` is given."""

    def __init__(
        self,
        out: Path,
        settings: SynthSettings,
        shard: Shard | None,
        tar: int | None,
        on_record: Callable[[dict, bool], None] | None,
    ) -> None:
        from lowlight_cli.io.atomic import check_writable_dir

        check_writable_dir(out)  # a read-only or full --out is one line before any work
        out.mkdir(parents=True, exist_ok=True)
        _check_settings(out, settings)
        self.manifest, self.skipped = journal_paths(out, shard)
        self.done = _resume_state(out, self.manifest, self.skipped)
        """Records of the sources finished by earlier runs, by source."""
        self.summary = Summary()
        self.on_record = on_record
        prefix = f"shard-{shard[0]}-of-{shard[1]}-" if shard else ""
        self.shards = ShardWriter(out, tar, prefix, self._journal_pairs) if tar else None

    def _journal_pairs(self, records: list[PairRecord]) -> None:
        for record in records:
            append_jsonl(self.manifest, record.to_json())

    def finish(self, record: dict, resumed: bool) -> None:
        """Journal (unless `resumed`) and count one source's record; `on_record` sees it."""
        status = record["status"]
        if not resumed:
            blobs = record.pop("blobs", None)
            if blobs is not None:
                assert self.shards is not None  # only a tar run's records carry blobs
                stored = self.shards.add(PairRecord.from_json(record), blobs)  # journaled when complete
                record = stored.to_json()
            else:
                append_jsonl(self.manifest if status == "pair" else self.skipped, record)
        summary = self.summary
        if resumed:
            summary.resumed += 1
        elif status == "pair":
            summary.written += 1
        elif status == "rejected":
            summary.rejected += 1
        else:
            summary.failed += 1
            summary.failures.append(f"{record['source']}: {record['reason']}")
        if self.on_record:
            self.on_record(record, resumed)

    def close(self, error: BaseException | None = None) -> None:
        """Complete the open shards (or, after `error`, discard them: their pairs are redone on resume)."""
        if self.shards:
            self.shards.close(error)


def run(
    sources: Iterable[Source],
    out: Path,
    settings: SynthSettings,
    workers: int = 1,
    limit: int | None = None,
    shard: Shard | None = None,
    on_record: Callable[[dict, bool], None] | None = None,
    tar: int | None = None,
) -> Summary:
    """Synthesize pairs from `sources` into `out`. `workers=0` runs in this process.

    `on_record(record, resumed)` is called once per source in source order (for progress bars).
    `tar`: write WebDataset tar shards of this many pairs (per split) instead of loose files.
    """
    journal = Journal(out, settings, shard, tar, on_record)
    try:
        _run(select_sources(sources, shard, limit), out, settings, workers, journal, tar is not None)
    except BaseException as exc:
        journal.close(exc)
        raise
    journal.close()
    return journal.summary


def _run(
    todo: Iterable[Source], out: Path, settings: SynthSettings, workers: int, journal: Journal, tar: bool
) -> None:
    done, finish = journal.done, journal.finish
    if workers == 0:
        for source in todo:
            finish(
                *(done[source.rel], True)
                if source.rel in done
                else (process(source, out, settings, tar), False)
            )
        return

    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    pending: deque[tuple[Future | None, dict | None]] = deque()
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
    try:
        for source in todo:
            if source.rel in done:
                pending.append((None, done[source.rel]))
            else:
                pending.append((pool.submit(process, source, out, settings, tar), None))
            while len(pending) > workers * IN_FLIGHT_PER_WORKER or (pending and pending[0][0] is None):
                _drain_one(pending, finish)
        while pending:
            _drain_one(pending, finish)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C only the running images finish


def _drain_one(pending: deque, finish: Callable[[dict, bool], None]) -> None:
    future, record = pending.popleft()
    finish(future.result() if future else record, future is None)
