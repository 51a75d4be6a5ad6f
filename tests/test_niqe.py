"""NIQE (`evaluation.niqe`) against BasicSR's own implementation, and what it measures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import DATA, SAMPLE

from lowlight_cli.evaluation.niqe import niqe

COCO = ("000000000785", "000000022705", "000000050811")
"""The three COCO photos of tests/data/synth (640x425, 482x640, 640x605)."""
BASICSR = {
    "sample": 3.566398,
    "blur": 8.529239,
    "noisy": 9.313606,
    "000000000785": 4.557938,
    "000000022705": 3.795168,
    "000000050811": 3.942436,
}
"""calculate_niqe(img, crop_border=0, input_order='HWC', convert_to='y') of BasicSR 1.4.2 (its niqe.py,
metric_util.py, utils/color_util.py and utils/matlab_functions.py from the PyPI sdist basicsr-1.4.2.tar.gz,
run unchanged but for their package imports: an empty basicsr/__init__.py and a stub METRIC_REGISTRY; torch
2.x for its imresize, numpy 2, scipy 1.17, opencv 4) on the BGR uint8 images cv2.imread gives:
tests/data/official/sample_5047.jpg (1080x720), its Gaussian blur (sigma 2) and the photo plus N(0, 0.05)
noise (numpy default_rng(0)), each rounded to 8 bits as made below, and the three COCO photos of
tests/data/synth. Our port differs from these by at most 1.7e-4 (float32 sums in another order in the
half-size resize)."""


def images() -> dict[str, np.ndarray]:
    read = lambda path: cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255  # noqa: E731
    rgb = read(SAMPLE)
    blur = cv2.GaussianBlur(rgb, (0, 0), 2.0)
    noisy = np.clip(rgb + np.random.default_rng(0).normal(0, 0.05, rgb.shape).astype(np.float32), 0, 1)
    as8 = lambda a: np.round(a * 255).astype(np.uint8).astype(np.float32) / 255  # noqa: E731 - 8-bit, as BasicSR read it
    return {
        "sample": rgb,
        "blur": as8(blur),
        "noisy": as8(noisy),
        **{name: read(DATA / "synth" / f"{name}.jpg") for name in COCO},
    }


@pytest.mark.parametrize("name", list(BASICSR))
def test_niqe_matches_basicsr(name):
    assert niqe(images()[name]) == pytest.approx(BASICSR[name], abs=1e-3)


def test_niqe_scores_a_blur_and_noise_worse_than_the_photo():
    photos = images()
    scores = {k: niqe(v) for k, v in photos.items()}
    assert scores["sample"] < scores["blur"] and scores["sample"] < scores["noisy"]
    for name in COCO:  # and so on other photos: blurred or noised, each scores worse than itself
        rgb = photos[name]
        noisy = np.clip(rgb + np.random.default_rng(1).normal(0, 0.05, rgb.shape).astype(np.float32), 0, 1)
        assert scores[name] < niqe(cv2.GaussianBlur(rgb, (0, 0), 2.0)) and scores[name] < niqe(noisy)


def test_niqe_reads_luma_as_basicsr_does():
    """BT.601 Y in [16, 235] (MATLAB's rgb2ycbcr), rounded: black 16, white 235; colour order matters
    (RGB in)."""
    from lowlight_cli.evaluation.niqe import Y_WEIGHTS

    assert float(np.array([0, 0, 0]) @ (Y_WEIGHTS * 255) + 16) == 16
    assert float(np.array([1, 1, 1]) @ (Y_WEIGHTS * 255) + 16) == pytest.approx(235, abs=1e-9)
    rgb = images()["sample"]
    assert niqe(rgb[..., ::-1].copy()) != pytest.approx(niqe(rgb), abs=1e-3)  # BGR would read another luma


def test_niqe_refuses_an_image_smaller_than_one_block():
    with pytest.raises(ValueError, match="96x96"):
        niqe(np.zeros((64, 200, 3), np.float32))


def test_niqe_of_a_flat_image_is_nan_not_an_error():
    assert np.isnan(niqe(np.full((200, 300, 3), 0.2, np.float32)))


def test_the_pristine_model_ships_with_its_licence():
    """The wheel carries the folder's data files (hatch: everything under lowlight_cli/ that git does not
    ignore)."""
    from lowlight_cli.evaluation.niqe import PARAMS

    folder = PARAMS.parent
    assert PARAMS.stat().st_size == 11850 and {"mu_pris_param", "cov_pris_param", "gaussian_window"} <= set(
        np.load(PARAMS)
    )
    assert "Apache License" in (folder / "LICENSE-BasicSR.txt").read_text()
    assert "BasicSR" in (folder / "NIQE_NOTICE.md").read_text()
