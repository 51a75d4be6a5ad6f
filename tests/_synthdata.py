"""A tiny `lowlight synth` folder for training and evaluation tests, made by the real pipeline."""

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
    result = CliRunner().invoke(app, ["synth", "--src", str(src), "--out", str(out), "--no-darkness", "--no-blur",
                                      "--no-colour", "--test-fraction", "0.3", "--workers", "0", "-q"])
    assert result.exit_code == 0, result.output
    return out
