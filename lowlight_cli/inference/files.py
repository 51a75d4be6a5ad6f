"""Enhance files in a batch: one bad file is reported and skipped, never the end of the batch."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

from lowlight_cli.errors import DiskFullError, FileError
from lowlight_cli.inference.enhancer import Enhancer, Progress
from lowlight_cli.io.heatmap import write_heatmap
from lowlight_cli.io.images import read_image, write_image
from lowlight_cli.io.paths import InputItem, output_path

MAP_SUFFIX = "_attention.png"
"""Appended to an output's stem for the `--save-maps` heat-map."""


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


def map_path(output: Path) -> Path:
    return output.with_name(output.stem + MAP_SUFFIX)


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
    write_image(output, result.image, meta, fmt=fmt, quality=quality)
    if save_map:
        write_heatmap(map_path(output), result.attention)
    return rgb.shape[0] * rgb.shape[1] / 1e6


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
    """Yield one outcome per input. Existing outputs are skipped unless `overwrite`, so a re-run resumes.

    A file that fails is reported and the batch goes on, except on a full disk (DiskFullError): that outcome
    is the last, since every later write would fail too; finished outputs stay, no partial file is left.
    """
    for item in items:
        outcome = enhance_one(enhancer, item, out_dir, suffix, fmt, quality, overwrite, save_maps,
                              tile_progress(item.path) if tile_progress else None)
        yield outcome
        if outcome.disk_full:
            return


def existing_output(item: InputItem, out_dir: Path | None, suffix: str, fmt: str | None = None,
                    overwrite: bool = False) -> FileOutcome | None:
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
    """Enhance one input of a batch (or skip it, see `existing_output`); a bad file is a `failed` outcome."""
    start = time.perf_counter()
    try:
        skipped = existing_output(item, out_dir, suffix, fmt, overwrite)
        if skipped:
            return skipped
        dst = output_path(item, out_dir, suffix, fmt)
        mp = enhance_file(enhancer, item.path, dst, fmt, quality, save_maps, progress)
        return FileOutcome(item.path, dst, "done", seconds=time.perf_counter() - start, megapixels=mp)
    except DiskFullError as exc:
        return FileOutcome(item.path, None, "failed", f"{exc}; stopped: the disk is full", time.perf_counter() - start,
                           disk_full=True)
    except FileError as exc:
        return FileOutcome(item.path, None, "failed", str(exc), time.perf_counter() - start)
    except MemoryError:
        return FileOutcome(item.path, None, "failed", f"{item.path}: out of memory; retry with a smaller --tile")
