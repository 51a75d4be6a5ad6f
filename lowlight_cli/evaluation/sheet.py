"""Contact sheets: one row per image (input, then each method), labelled columns, written as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

LABEL_HEIGHT = 28
GAP = 4
BACKGROUND = 0.12


def thumbnail(rgb: np.ndarray, height: int) -> np.ndarray:
    """float32 RGB in [0, 1] scaled (area interpolation) to `height` px high, aspect kept."""
    import cv2

    h, w = rgb.shape[:2]
    size = (max(1, round(w * height / h)), height)
    return cv2.resize(np.clip(rgb, 0, 1).astype(np.float32), size, interpolation=cv2.INTER_AREA)


def contact_sheet(rows: list[list[np.ndarray]], labels: tuple[str, ...], path: Path) -> Path:
    """Lay out `rows` of same-height thumbnails under a header of `labels`;
    every cell as wide as the widest."""
    import cv2

    from lowlight_cli.io.images import ImageMeta, write_image

    cell_h = max(t.shape[0] for row in rows for t in row)
    cell_w = max(t.shape[1] for row in rows for t in row)
    columns = max(len(row) for row in rows)
    width = columns * cell_w + (columns + 1) * GAP
    height = LABEL_HEIGHT + len(rows) * (cell_h + GAP) + GAP
    header = np.full(
        (LABEL_HEIGHT, width, 3), round(BACKGROUND * 255), np.uint8
    )  # OpenCV draws text on 8-bit
    for c, label in enumerate(labels[:columns]):
        x = GAP + c * (cell_w + GAP)
        cv2.putText(
            header,
            label[: max(4, cell_w // 9)],
            (x + 4, LABEL_HEIGHT - 9),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
    canvas = np.full((height, width, 3), BACKGROUND, np.float32)
    canvas[:LABEL_HEIGHT] = header / 255.0
    for r, row in enumerate(rows):
        y = LABEL_HEIGHT + r * (cell_h + GAP)
        for c, thumb in enumerate(row):
            th, tw = thumb.shape[:2]
            x = GAP + c * (cell_w + GAP) + (cell_w - tw) // 2
            canvas[y + (cell_h - th) // 2 : y + (cell_h - th) // 2 + th, x : x + tw] = thumb
    return write_image(path, canvas, ImageMeta(format="PNG", bit_depth=8, gray=False))
