"""Tile plans and blending for the local stages, shared by every backend.

Each tile's *core* is what it contributes; the core is widened by a blend band (where neighbouring
tiles cross-fade with complementary sin^2/cos^2 ramps) and then by a margin at least as wide as the local
stages' receptive field, so every pixel a tile contributes saw all the context it would have seen
untiled. Windows are aligned to the network's size multiple so strided layers sample the same grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

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
    """Split [0, size) into ceil(size/tile) cores as equal as the size multiple allows: every core starts on a
    multiple of `multiple` and no two differ by more than one multiple, so there is never a thin sliver at the
    end (until 2026-12 the cores were `tile` rounded up and the last one took the rest: a 4 px core could not
    hold its 16 px blend band and crashed the Blender). Works for any tile >= 1 and any size."""
    units = max(1, -(-size // multiple))
    count = min(units, max(1, math.ceil(size / max(1, tile))))
    bounds = [min(size, units * i // count * multiple) for i in range(count + 1)]
    cores = [end - start for start, end in pairwise(bounds)]
    # the band at each inner boundary: at most half of either core, so a core holds both its bands and
    # no band reaches past the canvas or into a second neighbour
    bands = [0] + [min(blend, cores[i - 1] // 2, cores[i] // 2) for i in range(1, count)] + [0]
    spans = []
    for i, (start, end) in enumerate(pairwise(bounds)):
        before, after = bands[i], bands[i + 1]
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


def _rise(t: np.ndarray) -> np.ndarray:
    """sin^2 ramp from 0 to 1 over t in [0, 1], 1 beyond."""
    return np.sin(np.minimum(t, 1.0) * (np.pi / 2)) ** 2


def _ramp(span: Span) -> tuple[slice, np.ndarray]:
    """Canvas slice a span contributes to, and its 1-D blend weights over that slice: a sin^2 rise over the
    first 2 x blend_before pixels times a fall over the last 2 x blend_after. `plan_axis` keeps a core at
    least as long as its two bands, so the ramps never overlap and neighbours' ramps sum to 1 (sin^2 +
    cos^2)."""
    lo, hi = span.core[0] - span.blend_before, span.core[1] + span.blend_after
    pos = np.arange(hi - lo, dtype=np.float32) + 0.5
    weights = np.ones(hi - lo, np.float32)
    if span.blend_before:
        weights *= _rise(pos / (2 * span.blend_before))
    if span.blend_after:
        weights *= _rise((hi - lo - pos) / (2 * span.blend_after))
    return slice(lo, hi), weights.astype(np.float32)


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
