"""Tiny `lowlight synth` and LOL-layout folders for training and evaluation tests,
made by the real pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def make_synth_dir(root: Path, images: int = 8) -> Path:
    """Synthetic photos (gradients and boxes, 96x80) through `lowlight synth` with the filters off."""
    from PIL import Image
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app

    rng = np.random.default_rng(0)
    src = root / "photos"
    src.mkdir(parents=True)
    yy, xx = np.mgrid[0:80, 0:96] / 96
    for i in range(images):
        img = np.stack([xx, yy, 1 - xx * yy], axis=2) * rng.uniform(0.5, 1, 3)
        for _ in range(4):
            y, x = rng.integers(0, 60), rng.integers(0, 76)
            img[y : y + 20, x : x + 20] = rng.uniform(0.2, 1, 3)
        Image.fromarray((img * 255).astype(np.uint8)).save(src / f"photo{i}.png")
    out = root / "synth"
    result = CliRunner().invoke(
        app,
        [
            "synth",
            "--src",
            str(src),
            "--out",
            str(out),
            "--no-darkness",
            "--no-blur",
            "--no-colour",
            "--test-fraction",
            "0.3",
            "--workers",
            "0",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def make_lol_dir(root: Path, n: int = 2) -> Path:
    """A LOL-layout folder: `high` photos and their darkened `low` versions, same names."""
    from PIL import Image

    rng = np.random.default_rng(1)
    for sub in ("low", "high"):
        (root / sub).mkdir(parents=True)
    yy, xx = np.mgrid[0:72, 0:100] / 100
    for i in range(n):
        high = np.stack([xx, yy, 1 - xx], axis=2) * rng.uniform(0.6, 1, 3)
        Image.fromarray((high * 255).astype(np.uint8)).save(root / "high" / f"{i}.png")
        Image.fromarray((high**2.5 * 0.4 * 255).astype(np.uint8)).save(root / "low" / f"{i}.png")
    return root
