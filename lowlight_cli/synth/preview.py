"""A picture grid of a few pairs: normal / low / attention / noise / amplified, one pair per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lowlight_cli.synth.store import PairRecord, read_stored

COLUMNS = ("high", "low", "attention", "noise", "amplified")
LABELS = ("normal", "low (noisy)", "attention GT", "noise x4 (abs)", "amplified")
TILE_HEIGHT = 200
NOISE_GAIN = 4.0
"""Noise is small next to the image; |noise| * 4 makes it visible."""


def _tile(out: Path, record: PairRecord, kind: str) -> np.ndarray:
    """BGR uint8 rendering of one stored array (OpenCV's order: OpenCV draws and writes the grid)."""
    import cv2

    from lowlight_cli.synth.targets import decode_noise

    pixels = read_stored(out, record, kind)
    if kind == "attention":
        pixels = cv2.cvtColor((pixels / 257).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    elif kind == "noise":
        pixels = np.round(np.clip(np.abs(decode_noise(pixels)) * NOISE_GAIN, 0, 1) * 255).astype(np.uint8)
    if kind != "attention":
        pixels = np.ascontiguousarray(pixels[..., ::-1])  # stored RGB -> BGR
    scale = TILE_HEIGHT / pixels.shape[0]
    return cv2.resize(pixels, (round(pixels.shape[1] * scale), TILE_HEIGHT), interpolation=cv2.INTER_AREA)


def write_preview(out: Path, records: list[dict], dest: Path, count: int = 4) -> Path:
    """Write the grid for the first `count` pairs of `records` (manifest lines of `out`) to `dest` (format
    from its suffix)."""
    import cv2

    from lowlight_cli.io.atomic import atomic_path

    pairs = [PairRecord.from_json(line) for line in records[:count]]
    grid = [[_tile(out, record, kind) for kind in COLUMNS] for record in pairs]
    if not grid:
        raise ValueError("no pairs to preview")
    rows = [np.hstack(tiles) for tiles in grid]
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    header = np.full((28, width, 3), 255, np.uint8)
    x = 0
    for label, tile in zip(LABELS, grid[0], strict=True):
        cv2.putText(header, label, (x + 6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        x += tile.shape[1]
    with atomic_path(dest) as tmp:
        if not cv2.imwrite(str(tmp), np.vstack([header, *rows])):
            raise OSError(f"cannot write {dest}")
    return dest
