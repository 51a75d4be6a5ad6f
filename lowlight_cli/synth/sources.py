"""Where normal-light photos come from: a COCO root, a VOC root, a folder or a glob.

Every source streams `Source(rel, path)` items in a stable, sorted order without listing the whole
collection first; `rel` (a POSIX path relative to the source root) names the image everywhere:
its RNG seed, shard, split and output id all derive from it.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lowlight_cli.errors import LowlightError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
COCO_SPLITS = ("train2017", "val2017")


@dataclass(frozen=True)
class Source:
    rel: str
    path: Path


def _walk(root: Path, base: Path) -> Iterator[Source]:
    """Depth-first, sorted by name at every level; hidden entries and partial files are skipped."""
    with os.scandir(root) as it:
        entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir():
            yield from _walk(path, base)
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            yield Source(path.relative_to(base).as_posix(), path)


def coco(root: Path) -> Iterator[Source]:
    """`train2017/` and `val2017/` under a COCO root (either may be missing, not both)."""
    splits = [root / s for s in COCO_SPLITS if (root / s).is_dir()]
    if not splits:
        raise LowlightError(
            f"{root}: no {' or '.join(COCO_SPLITS)} folder "
            "(COCO layout; `lowlight synth --download` fetches it)"
        )
    for split in splits:
        yield from _walk(split, root)


def voc(root: Path) -> Iterator[Source]:
    """`VOCdevkit/VOC20xx/JPEGImages` under `root` (root may also be VOCdevkit or VOC20xx itself)."""
    candidates = [root, root / "VOCdevkit", *sorted(root.glob("VOC*")), *sorted(root.glob("VOCdevkit/VOC*"))]
    folders = sorted({c / "JPEGImages" for c in candidates if (c / "JPEGImages").is_dir()})
    if not folders:
        raise LowlightError(f"{root}: no VOCdevkit/VOC20xx/JPEGImages folder (VOC layout)")
    base = folders[0].parent.parent
    for folder in folders:
        yield from _walk(folder, base)


def folder_or_glob(spec: str) -> Iterator[Source]:
    """A folder (recursive) or a glob pattern (`**` allowed);
    `rel` is relative to the pattern's fixed prefix."""
    path = Path(spec)
    if path.is_dir():
        yield from _walk(path, path)
        return
    if not glob.has_magic(spec):
        raise LowlightError(f"{spec}: not a folder, a glob pattern, 'coco' or 'voc'")
    parts = Path(spec).parts
    fixed = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    base = Path(*parts[:fixed]) if fixed else Path(".")
    for name in sorted(glob.iglob(spec, recursive=True)):
        p = Path(name)
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."):
            yield Source(p.relative_to(base).as_posix(), p)


def open_source(src: str, root: Path | None) -> Iterator[Source]:
    """Resolve `src` (coco or voc under the dataset folder `root`, a folder or a glob) to an iterator of
    images."""
    if src in ("coco", "voc"):
        if root is None:
            raise LowlightError(f"root is needed for {src}: the folder the dataset is in", param="root")
        if not root.is_dir():
            raise LowlightError(f"{root}: no such folder")
        return coco(root) if src == "coco" else voc(root)
    return folder_or_glob(src)
