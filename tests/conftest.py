"""Shared fixtures: the official reference files and a cached imported model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
OFFICIAL_ONNX = DATA / "official" / "agllnet_official_256x256.onnx"
SAMPLE = DATA / "official" / "sample_5047.jpg"


def load_rgb(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """HxWx3 float32 in [0, 1]; `size` is (width, height), resized with area averaging."""
    from PIL import Image

    im = Image.open(path).convert("RGB")
    if size:
        im = im.resize(size, Image.Resampling.BOX)
    return np.asarray(im, dtype=np.float32) / 255.0


@pytest.fixture(scope="session")
def official_model():
    from lowlight_cli.weights.store import load_model

    return load_model("official")


@pytest.fixture(scope="session")
def sample_rgb() -> np.ndarray:
    return load_rgb(SAMPLE)
