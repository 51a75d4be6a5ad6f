"""Enhance files in a batch: one bad file is reported and skipped, never the end of the batch.

Pipelined like `lowlight video`: the next images are decoded and the previous results encoded in background
threads while the network runs (Pillow's codecs and onnxruntime/torch release the GIL), with at most
`LOOKAHEAD` images decoded ahead and `LOOKAHEAD` results waiting to be written, which bounds memory.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lowlight_cli.errors import DiskFullError, FileError, LowlightError
from lowlight_cli.inference.enhancer import Enhancer, Progress
from lowlight_cli.io.heatmap import write_heatmap
from lowlight_cli.io.images import FORMATS, read_image, write_image
from lowlight_cli.io.paths import MAP_SUFFIX, InputItem, check_distinct_outputs, map_path, output_path  # noqa: F401

LOOKAHEAD = 2
"""Images decoded ahead of the network, and results queued for writing, at most."""
QUALITY_RANGE = (1, 100)
"""JPEG and WebP quality, lowest to highest."""


def check_write_options(fmt: str | None, quality: int | None) -> None:
    """An output format of FORMATS (None: each input's own) and a quality in QUALITY_RANGE (None: the
    format's default), or a LowlightError naming `fmt` or `quality`."""
    if fmt is not None and fmt not in FORMATS:
        raise LowlightError(f"fmt {fmt!r}: unknown (choose from {', '.join(FORMATS)})", param="fmt")
    low, high = QUALITY_RANGE
    if quality is not None and not low <= quality <= high:
        raise LowlightError(
            f"quality {quality} is out of range: must be between {low} and {high}", param="quality"
        )


@dataclass
class FileOutcome:
    source: Path
    output: Path | None
    status: Literal["done", "skipped", "failed"]
    error: str | None = None
    seconds: float = 0.0
    megapixels: float = 0.0
    disk_full: bool = False
    """The write failed for want of space: every later write would fail too, so a batch stops there."""


def enhance_file(
    enhancer: Enhancer,
    source: Path,
    output: Path,
    fmt: str | None = None,
    quality: int | None = None,
    save_map: bool = False,
    progress: Progress | None = None,
) -> float:
    """Read, enhance and write one image (atomically); returns its size in megapixels."""
    rgb, meta = read_image(source)
    result = enhancer.enhance(rgb, progress=progress)
    _write(output, result, meta, fmt, quality, save_map)
    return rgb.shape[0] * rgb.shape[1] / 1e6


def _write(output: Path, result, meta, fmt: str | None, quality: int | None, save_map: bool) -> None:
    write_image(output, result.image, meta, fmt=fmt, quality=quality)
    if save_map:
        write_heatmap(map_path(output), result.attention)


def _failure(source: Path, exc: BaseException) -> str:
    if isinstance(exc, DiskFullError):
        return f"{exc}; stopped: the disk is full"
    if isinstance(exc, MemoryError):
        return f"{source}: out of memory; retry with a smaller `tile`"
    return str(exc)


def enhance_items(
    enhancer: Enhancer,
    items: Iterable[InputItem],
    out_dir: Path | None,
    suffix: str,
    fmt: str | None = None,
    quality: int | None = None,
    overwrite: bool = False,
    save_maps: bool = False,
    tile_progress: Callable[[Path], Progress] | None = None,
) -> Iterator[FileOutcome]:
    """Yield one outcome per input, in input order. Existing outputs are skipped unless `overwrite`, so a
    re-run resumes. A file that fails is reported and the batch goes on, except on a full disk
    (DiskFullError): that outcome is the last, since every later write would fail too; finished outputs stay
    and no partial file is left. Decoding of the next images and encoding of the previous results overlap the
    network. Two inputs that map to one output (or an output that would land on another input) raise one
    LowlightError naming both at the call, before any work (`io.paths.check_distinct_outputs`)."""
    items = list(items)
    check_write_options(fmt, quality)
    check_distinct_outputs(items, out_dir, suffix, fmt, save_maps)
    return _stop_at_full_disk(
        _pipelined(enhancer, items, out_dir, suffix, fmt, quality, overwrite, save_maps, tile_progress)
    )


def _stop_at_full_disk(outcomes: Generator[FileOutcome, None, None]) -> Iterator[FileOutcome]:
    """The outcomes, ending after the first one that failed on a full disk."""
    try:
        for outcome in outcomes:
            yield outcome
            if outcome.disk_full:
                return
    finally:
        outcomes.close()


def _pipelined(
    enhancer, items, out_dir, suffix, fmt, quality, overwrite, save_maps, tile_progress
) -> Generator[FileOutcome, None, None]:
    """`enhance_items` without the stop at a full disk: decode ahead, run the network, encode behind."""
    todo = iter(items)
    reads: deque[tuple[InputItem, Path | None, Future | FileOutcome, float]] = deque()
    writes: deque[tuple[FileOutcome, Future, float]] = deque()
    claimed: set[Path] = set()  # outputs this run will write (check_distinct_outputs refused any clash)
    disk_full = threading.Event()

    def write(dst: Path, *args) -> None:  # in the one writer thread, in input order
        if (
            disk_full.is_set()
        ):  # a batch stops at a full disk: nothing queued behind the failed write is written
            raise DiskFullError(dst, "not written: the disk is full")
        try:
            _write(dst, *args)
        except DiskFullError:
            disk_full.set()
            raise

    def plan_next() -> None:
        item = next(todo, None)
        if item is None:
            return
        start = time.perf_counter()
        try:
            skipped = existing_output(item, out_dir, suffix, fmt, overwrite)
            dst = skipped.output if skipped and skipped.output else output_path(item, out_dir, suffix, fmt)
        except FileError as exc:
            reads.append((item, None, FileOutcome(item.path, None, "failed", str(exc)), start))
            return
        if skipped or dst in claimed:
            reads.append((item, dst, skipped or FileOutcome(item.path, dst, "skipped"), start))
        else:
            claimed.add(dst)
            reads.append((item, dst, reader.submit(read_image, item.path), start))

    with (
        ThreadPoolExecutor(1, thread_name_prefix="decode") as reader,
        ThreadPoolExecutor(1, thread_name_prefix="encode") as writer,
    ):
        for _ in range(LOOKAHEAD):
            plan_next()
        while reads:
            item, dst, pending, start = reads.popleft()
            plan_next()
            if isinstance(pending, FileOutcome):
                yield from _drain(writes, 0)  # outcomes stay in input order
                yield pending
                continue
            assert dst is not None  # a read is queued only for an output this run writes
            try:
                rgb, meta = pending.result()
                result = enhancer.enhance(rgb, progress=tile_progress(item.path) if tile_progress else None)
            except (FileError, MemoryError) as exc:
                yield from _drain(writes, 0)
                yield FileOutcome(
                    item.path,
                    None,
                    "failed",
                    _failure(item.path, exc),
                    time.perf_counter() - start,
                    disk_full=isinstance(exc, DiskFullError),
                )
                continue
            outcome = FileOutcome(item.path, dst, "done", megapixels=rgb.shape[0] * rgb.shape[1] / 1e6)
            writes.append((outcome, writer.submit(write, dst, result, meta, fmt, quality, save_maps), start))
            yield from _drain(writes, LOOKAHEAD)
        yield from _drain(writes, 0)


def _drain(writes: deque[tuple[FileOutcome, Future, float]], keep: int) -> Iterator[FileOutcome]:
    """Outcomes of the queued writes, oldest first: every finished one at the head, and as many more (waiting
    for them) as leave at most `keep` queued."""
    while writes and (len(writes) > keep or writes[0][1].done()):
        outcome, future, start = writes.popleft()
        try:
            future.result()
        except (FileError, MemoryError) as exc:
            outcome = FileOutcome(
                outcome.source,
                None,
                "failed",
                _failure(outcome.source, exc),
                disk_full=isinstance(exc, DiskFullError),
            )
        outcome.seconds = time.perf_counter() - start
        yield outcome


def existing_output(
    item: InputItem, out_dir: Path | None, suffix: str, fmt: str | None = None, overwrite: bool = False
) -> FileOutcome | None:
    """The `skipped` outcome of an input whose output exists (unless `overwrite`); None: it is to do."""
    dst = output_path(item, out_dir, suffix, fmt)
    return FileOutcome(item.path, dst, "skipped") if dst.exists() and not overwrite else None


def enhance_one(
    enhancer: Enhancer,
    item: InputItem,
    out_dir: Path | None,
    suffix: str,
    fmt: str | None = None,
    quality: int | None = None,
    overwrite: bool = False,
    save_maps: bool = False,
    progress: Progress | None = None,
) -> FileOutcome:
    """Enhance one input (or skip it, see `existing_output`) without pipelining, as a Ray actor does; a bad
    file is a `failed` outcome."""
    start = time.perf_counter()
    try:
        skipped = existing_output(item, out_dir, suffix, fmt, overwrite)
        if skipped:
            return skipped
        dst = output_path(item, out_dir, suffix, fmt)
        mp = enhance_file(enhancer, item.path, dst, fmt, quality, save_maps, progress)
        return FileOutcome(item.path, dst, "done", seconds=time.perf_counter() - start, megapixels=mp)
    except (FileError, MemoryError) as exc:
        return FileOutcome(
            item.path,
            None,
            "failed",
            _failure(item.path, exc),
            time.perf_counter() - start,
            disk_full=isinstance(exc, DiskFullError),
        )
