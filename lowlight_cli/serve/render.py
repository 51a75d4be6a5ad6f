"""From a stored network result to the file a user downloads, with the user controls of the request.

The network runs once per photo (jobs.py stores its raw result as float32 .npy); every download applies
`Controls.apply` to that result exactly as `lowlight enhance` does after its own inference, and writes it
with `lowlight_cli.io.images.write_image` (EXIF, ICC, DPI, bit depth, alpha kept, orientation applied).
The page shows the same thing, computed in the browser by static/controls.js with the same formulas.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from lowlight_cli.errors import LowlightError
from lowlight_cli.inference.controls import Controls, keep_colour
from lowlight_cli.io.images import FORMATS, SUFFIXES, ImageMeta, read_image, write_image

PREVIEW_META = ImageMeta(format="PNG", bit_depth=8, gray=False)
"""The page's own pictures (source and network result): 8-bit RGB PNG, orientation already applied."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def make_controls(
    strength: float = 1.0, exposure: str | None = None, keep_colour: bool = False, denoise: float = 1.0
) -> Controls:
    """Controls from request fields; invalid values raise a one-line LowlightError (answered with 400)."""
    return Controls.parse(
        strength, (exposure or "").strip() or None, keep_colour, denoise
    )  # an empty field means none


def check_format(fmt: str | None, quality: int | None) -> tuple[str | None, int | None]:
    if fmt is not None and fmt not in FORMATS:
        raise LowlightError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if quality is not None and not 1 <= quality <= 100:
        raise LowlightError(f"quality {quality}: must be between 1 and 100")
    return fmt, quality


def safe_stem(name: str) -> str:
    """A client's file name reduced to a harmless stem for download names (never used on disk)."""
    stem = Path(name.replace("\\", "/")).stem if name else ""
    return _UNSAFE.sub("_", stem).strip("._")[:80] or "photo"


def download_name(client_name: str, source_format: str, fmt: str | None, label: str = "_enhanced") -> str:
    suffix = SUFFIXES.get(FORMATS.get(fmt, fmt) if fmt else source_format, ".png")
    return f"{safe_stem(client_name)}{label}{suffix}"


def render(
    upload: Path, raw: Path, controls: Controls, out: Path, fmt: str | None = None, quality: int | None = None
) -> ImageMeta:
    """Apply `controls` to the stored raw result of `upload` and write it to `out`;
    returns the source's meta."""
    rgb, meta = read_image(upload)
    result = np.load(raw, mmap_mode="r")
    image = controls.apply(rgb, np.asarray(result, np.float32))
    write_image(out, image, meta, fmt=fmt, quality=quality)
    return meta


def preview(upload: Path, raw: Path | None, out: Path, with_keep_colour: bool = False) -> None:
    """The page's picture: the source (raw None), the network result, or that with keep-colour applied."""
    rgb, _ = read_image(upload)
    if raw is None:
        image = rgb
    else:
        image = np.asarray(np.load(raw, mmap_mode="r"), np.float32)
        if with_keep_colour:
            image = keep_colour(rgb, image)
    write_image(out, image, PREVIEW_META)
