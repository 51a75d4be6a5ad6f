"""Tile plans: every `--tile` the option accepts works, on every image size, and gives the untiled result.

Until 2026-12 a small tile (1..96 px, depending on the size) planned a last core thinner than its 16 px blend
band and the Blender crashed (`could not broadcast input array from shape (32,) into shape (20,)`, issue 24).
The property test over tile x image size x backend x precision is in test_fuzz.py.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from conftest import SAMPLE, load_rgb
from typer.testing import CliRunner

MARGIN, BLEND = 96, 16


@pytest.mark.parametrize("multiple", [4, 8])
def test_every_tile_on_every_size_covers_the_canvas_with_weights_summing_to_one(multiple):
    """No network: for sizes up to 400 px and tiles 1..300 the cores tile the axis, start on the size
    multiple, hold both their blend bands, every window keeps the full margin of context around what it
    contributes, and the blend weights sum to exactly 1 (so a constant image comes back unchanged)."""
    from lowlight_cli.inference.tiling import Blender, Tile, _ramp, plan_axis

    for size in range(multiple, 401, multiple):
        for tile in range(1, 301):
            spans = plan_axis(size, tile, MARGIN, BLEND, multiple)
            assert spans[0].core[0] == 0 and spans[-1].core[1] == size
            total = np.zeros(size, np.float32)
            for a, b in pairwise(spans):
                assert a.core[1] == b.core[0] and a.blend_after == b.blend_before
            for s in spans:
                (c0, c1), (w0, w1) = s.core, s.window
                assert c0 % multiple == 0 and w0 % multiple == 0 and (w1 % multiple == 0 or w1 == size)
                assert c1 - c0 >= s.blend_before + s.blend_after
                region, weights = _ramp(s)
                assert 0 <= w0 <= region.start and region.stop <= w1 <= size
                assert w0 == 0 or region.start - w0 >= MARGIN
                assert w1 == size or w1 - region.stop >= MARGIN
                total[region] += weights
            assert np.abs(total - 1).max() < 1e-5, (size, tile)
            if len(spans) > 1:  # cores are as equal as the multiple allows: no sliver
                cores = [s.core[1] - s.core[0] for s in spans]
                assert max(cores) - min(cores) <= multiple, (size, tile, cores)
    blender = Blender(3, 24, 40)
    for t in (
        Tile(r, c) for r in plan_axis(24, 1, MARGIN, BLEND, 8) for c in plan_axis(40, 1, MARGIN, BLEND, 8)
    ):
        blender.add(
            t, np.full((3, t.rows.window[1] - t.rows.window[0], t.cols.window[1] - t.cols.window[0]), 0.25)
        )
    assert np.abs(blender.result() - 0.25).max() < 1e-6


def test_small_tiles_are_raised_to_the_smallest_core_and_say_so():
    from lowlight_cli.inference.enhancer import MIN_TILE, Enhancer

    for tile, core in ((1, MIN_TILE), (63, MIN_TILE), (64, 64), (80, 80)):
        enhancer = Enhancer("official", backend="onnx", device="cpu", tile=tile)
        assert enhancer.tile_size(480, 640) == core
    assert (
        f"tile {MIN_TILE} (tile 1 raised to the smallest core)"
        in Enhancer("official", backend="onnx", device="cpu", tile=1).description
    )


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-12))


def test_cli_tile_values_that_crashed_on_a_200x150_photo_give_the_untiled_result(tmp_path):
    """Issue 24: every --tile 1..32 (and 33) crashed on a 200x150 photo; all work now, within the tiling
    tolerance of docs/usage.md (at least 45 dB from the untiled result)."""
    from PIL import Image

    from lowlight_cli.cli.app import app

    src = tmp_path / "photo_200x150.png"
    Image.fromarray((load_rgb(SAMPLE, (200, 150)) * 255).astype(np.uint8)).save(src)
    runner = CliRunner()
    outputs = {}
    for tile in (0, 1, 8, 32, 33):
        out = tmp_path / f"out{tile}"
        result = runner.invoke(
            app, ["enhance", str(src), "-o", str(out), "--tile", str(tile), "--backend", "onnx", "--no-gate"]
        )
        assert result.exit_code == 0, result.output
        assert "a bug in lowlight" not in result.output
        outputs[tile] = np.asarray(Image.open(out / src.name), np.float32) / 255
    for tile in (1, 8, 32, 33):
        assert outputs[tile].shape == (150, 200, 3)
        assert _psnr(outputs[tile], outputs[0]) >= 45, tile
