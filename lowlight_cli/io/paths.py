"""Which files a batch reads and where each output goes; an output never lands on an input."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from lowlight_cli.errors import FileError, LowlightError
from lowlight_cli.io.atomic import is_partial
from lowlight_cli.io.images import output_suffix

DEFAULT_SUFFIX = "_enhanced"
"""Appended to output names written beside their inputs."""
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"}
DERIVED_MARKERS = (DEFAULT_SUFFIX, "_attention")
"""Stems ending like this are our own outputs; folder scans skip them so re-runs do not enhance outputs."""


@dataclass(frozen=True)
class InputItem:
    path: Path
    rel: Path
    """Path relative to the folder or glob it was found in; mirrored under `-o DIR`."""


def collect_inputs(args: list[str], recursive: bool = False, exclude: Path | None = None) -> list[InputItem]:
    """Expand files, folders and glob patterns into a sorted list without duplicates.

    A path that does not exist is kept as an item, so it fails in the batch with a line naming it
    instead of stopping the other files. Folder and glob scans skip everything under `exclude` (the output
    folder, when it lies inside an input folder: its files are earlier results, never inputs). Raises
    LowlightError only when nothing at all is found.
    """
    items: dict[Path, InputItem] = {}
    skip = exclude.resolve() if exclude is not None else None

    def wanted(found: Path) -> bool:
        return _is_image(found) and not (skip is not None and found.resolve().is_relative_to(skip))

    for arg in args:
        path = Path(arg).expanduser()
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            for found in sorted(path.glob(pattern)):
                if wanted(found) and not found.stem.endswith(DERIVED_MARKERS):
                    items.setdefault(found.resolve(), InputItem(found, found.relative_to(path)))
        elif not path.exists() and glob.has_magic(arg):
            root = _glob_root(path)
            for name in sorted(glob.glob(str(path), recursive=recursive)):
                found = Path(name)
                if wanted(found):
                    items.setdefault(found.resolve(), InputItem(found, found.relative_to(root)))
        else:
            items.setdefault(path.resolve(), InputItem(path, Path(path.name)))
    if not items:
        raise LowlightError(f"no images found in {', '.join(args)} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return list(items.values())


def output_path(item: InputItem, out_dir: Path | None, suffix: str, fmt: str | None = None) -> Path:
    """Where `item`'s result goes: beside it, or under `out_dir` keeping its sub-folders."""
    folder = out_dir / item.rel.parent if out_dir else item.path.parent
    target = folder / f"{item.path.stem}{suffix}{output_suffix(item.path, fmt)}"
    if target.resolve() == item.path.resolve():
        raise FileError(item.path, "the output would overwrite the input; give a --suffix or another -o folder")
    return target


def check_destinations(items: list[InputItem], out_dir: Path | None) -> None:
    """Fail before any work when the outputs cannot be written: `-o` (or, without it, each input's folder) is
    read-only, below a file, or on a full disk. One FileError naming the folder."""
    from lowlight_cli.io.atomic import check_guarded, check_writable_dir

    folders = [out_dir] if out_dir is not None else sorted({item.path.parent for item in items if item.path.exists()})
    for folder in folders:
        check_guarded(folder)
        check_writable_dir(folder)


def _glob_root(pattern: Path) -> Path:
    """The folder part of a glob before its first wildcard: `a/b/*/c*.jpg` -> `a/b`."""
    root = Path()
    for part in pattern.parts:
        if glob.has_magic(part):
            break
        root /= part
    return root


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() and not is_partial(path)
