"""Tile plans and blending for the local stages, shared by every backend.

Each tile's *core* is what it contributes; the core is widened by a blend band (where neighbouring
tiles cross-fade with complementary sin^2/cos^2 ramps) and then by a margin at least as wide as the local
stages' receptive field, so every pixel a tile contributes saw all the context it would have seen
untiled. Windows are aligned to the network's size multiple so strided layers sample the same grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Span:
    """One axis of a tile: `window` is what the network sees, `core` (plus blend band) what it contributes."""

    window: tuple[int, int]
    core: tuple[int, int]
    blend_before: int
    blend_after: int


@dataclass(frozen=True)
class Tile:
    rows: Span
    cols: Span


def _floor(v: int, m: int) -> int:
    return v // m * m


def _ceil(v: int, m: int) -> int:
    return -(-v // m) * m


def plan_axis(size: int, tile: int, margin: int, blend: int, multiple: int) -> list[Span]:
    """Split [0, size) into about size/tile cores of equal length (no thin slivers at the end)."""
    count = max(1, math.ceil(size / tile))
    step = _ceil(math.ceil(size / count), multiple)
    spans = []
    for start in range(0, size, step):
        end = min(start + step, size)
        before = blend if start > 0 else 0
        after = blend if end < size else 0
        w0 = max(0, _floor(start - before - margin, multiple))
        w1 = min(size, _ceil(end + after + margin, multiple))
        spans.append(Span((w0, w1), (start, end), before, after))
    return spans


def plan_tiles(height: int, width: int, tile: int, margin: int, blend: int, multiple: int) -> list[Tile]:
    """Tiles covering a (height, width) canvas whose sides are multiples of `multiple`."""
    if height % multiple or width % multiple:
        raise ValueError(f"canvas {height}x{width} is not a multiple of {multiple}")
    return [
        Tile(r, c)
        for r in plan_axis(height, tile, margin, blend, multiple)
        for c in plan_axis(width, tile, margin, blend, multiple)
    ]


def _ramp(span: Span) -> tuple[slice, np.ndarray]:
    """Canvas slice a span contributes to, and its 1-D blend weights over that slice."""
    lo, hi = span.core[0] - span.blend_before, span.core[1] + span.blend_after
    weights = np.ones(hi - lo, np.float32)
    for n, side in ((span.blend_before, "before"), (span.blend_after, "after")):
        if n:
            t = (np.arange(2 * n, dtype=np.float32) + 0.5) / (2 * n)
            up = np.sin(t * np.pi / 2) ** 2
            if side == "before":
                weights[: 2 * n] = up
            else:
                weights[-2 * n :] = up[::-1]
    return slice(lo, hi), weights


class Blender:
    """Accumulates tile outputs with their blend weights into a (C, H, W) canvas."""

    def __init__(self, channels: int, height: int, width: int) -> None:
        self.out = np.zeros((channels, height, width), np.float32)
        self.weight = np.zeros((height, width), np.float32)

    def add(self, tile: Tile, window_out: np.ndarray) -> None:
        rows, wr = _ramp(tile.rows)
        cols, wc = _ramp(tile.cols)
        r0, c0 = rows.start - tile.rows.window[0], cols.start - tile.cols.window[0]
        part = window_out[:, r0 : r0 + len(wr), c0 : c0 + len(wc)]
        w = wr[:, None] * wc[None, :]
        self.out[:, rows, cols] += part * w
        self.weight[rows, cols] += w

    def result(self) -> np.ndarray:
        return self.out / np.maximum(self.weight, 1e-8)
