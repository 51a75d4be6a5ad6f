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
MAP_SUFFIX = "_attention.png"
"""Appended to an output's stem for the `--save-maps` heat-map."""
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

    def not_inside_output(folder: Path, arg: str) -> None:
        """Refuse a scan every file of which the `exclude` rule would drop as an earlier result (until 2026-12
        `enhance in -o in` said 'no images found in in', issue 24)."""
        if skip is None or not folder.resolve().is_relative_to(skip):
            return
        if folder.resolve() == skip:
            raise LowlightError(
                f"out {exclude}: the output folder is the input folder {arg} itself; give another "
                "`out` folder, or none to write beside the inputs with the _enhanced suffix",
                param="out",
            )
        raise LowlightError(
            f"out {exclude}: the output folder holds the input folder {arg}, so its photos would "
            "count as earlier results; give an `out` folder outside it",
            param="out",
        )

    for arg in args:
        path = Path(arg).expanduser()
        if path.is_dir():
            not_inside_output(path, arg)
            pattern = "**/*" if recursive else "*"
            for found in sorted(path.glob(pattern)):
                if wanted(found) and not found.stem.endswith(DERIVED_MARKERS):
                    items.setdefault(found.resolve(), InputItem(found, found.relative_to(path)))
        elif not path.exists() and glob.has_magic(arg):
            root = _glob_root(path)
            not_inside_output(root, f"{root} (of {arg})")
            for name in sorted(glob.glob(str(path), recursive=recursive)):
                found = Path(name)
                if wanted(found):
                    items.setdefault(found.resolve(), InputItem(found, found.relative_to(root)))
        else:
            items.setdefault(path.resolve(), InputItem(path, Path(path.name)))
    if not items:
        raise LowlightError(
            f"no images found in {', '.join(args)} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    return list(items.values())


def output_path(item: InputItem, out_dir: Path | None, suffix: str, fmt: str | None = None) -> Path:
    """Where `item`'s result goes: beside it, or under `out_dir` keeping its sub-folders."""
    folder = out_dir / item.rel.parent if out_dir else item.path.parent
    target = folder / f"{item.path.stem}{suffix}{output_suffix(item.path, fmt)}"
    if target.resolve() == item.path.resolve():
        raise FileError(
            item.path, "the output would overwrite the input; give a `suffix` or another `out` folder"
        )
    return target


def map_path(output: Path) -> Path:
    """Where an output's `--save-maps` heat-map goes."""
    return output.with_name(output.stem + MAP_SUFFIX)


def check_distinct_outputs(
    items: list[InputItem], out_dir: Path | None, suffix: str, fmt: str | None = None, save_maps: bool = False
) -> None:
    """Refuse a batch, before any work, in which one file would hide another: two inputs that map to one
    output (`a.jpg` and `a.png` with `--format png`; `x.jpg` in two input folders under one `-o`; their
    heat-maps with `--save-maps`), or an output that lands on another input (`a.png --format jpeg` beside an
    `a.jpg`). Until 2026-12 the second input was reported as `skip (exists)` and never enhanced (issue 24).
    One LowlightError naming both files. An input whose own output is refused (`output_path`) is left to fail
    in the batch."""
    inputs = {item.path.resolve(): item.path for item in items}
    claimed: dict[Path, Path] = {}
    for item in items:
        try:
            dst = output_path(item, out_dir, suffix, fmt)
        except FileError:
            continue
        for target in (dst, map_path(dst)) if save_maps else (dst,):
            key = target.resolve()
            first = claimed.setdefault(key, item.path)
            if first != item.path:
                raise LowlightError(
                    f"{first} and {item.path} would both be written to {target}; nothing was "
                    "enhanced: rename one, or enhance them in separate runs"
                )
            if key in inputs and inputs[key] != item.path:
                raise LowlightError(
                    f"{item.path}: its output {target} would overwrite the input {inputs[key]}; "
                    "nothing was enhanced: give a `suffix` or another `out` folder"
                )


def check_destinations(items: list[InputItem], out_dir: Path | None) -> None:
    """Fail before any work when the outputs cannot be written: `-o` (or, without it, each input's folder) is
    read-only, below a file, or on a full disk. One FileError naming the folder."""
    from lowlight_cli.io.atomic import check_guarded, check_writable_dir

    folders = (
        [out_dir]
        if out_dir is not None
        else sorted({item.path.parent for item in items if item.path.exists()})
    )
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
