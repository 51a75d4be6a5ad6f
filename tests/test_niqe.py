"""NIQE (`evaluation.niqe`) against BasicSR's own implementation, and what it measures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from lowlight_cli.evaluation.niqe import niqe

from conftest import SAMPLE

BASICSR = {"sample": 3.566398, "blur": 8.529239, "noisy": 9.313606}
"""calculate_niqe(img, crop_border=0, input_order='HWC', convert_to='y') of BasicSR 1.4.2 (its niqe.py,
metric_util.py, color_util.py and utils/matlab_functions.py from the PyPI sdist, run unchanged but for their
package imports) on tests/data/official/sample_5047.jpg as cv2.imread decodes it, its Gaussian blur (sigma 2)
and the photo plus N(0, 0.05) noise (numpy default_rng(0)), each rounded to 8 bits, as made below."""


def images() -> dict[str, np.ndarray]:
    rgb = cv2.imread(str(SAMPLE), cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255
    blur = cv2.GaussianBlur(rgb, (0, 0), 2.0)
    noisy = np.clip(rgb + np.random.default_rng(0).normal(0, 0.05, rgb.shape).astype(np.float32), 0, 1)
    as8 = lambda a: np.round(a * 255).astype(np.uint8).astype(np.float32) / 255  # noqa: E731 - 8-bit, as BasicSR read it
    return {"sample": rgb, "blur": as8(blur), "noisy": as8(noisy)}


@pytest.mark.parametrize("name", list(BASICSR))
def test_niqe_matches_basicsr(name):
    assert niqe(images()[name]) == pytest.approx(BASICSR[name], abs=1e-3)


def test_niqe_scores_a_blur_and_noise_worse_than_the_photo():
    scores = {k: niqe(v) for k, v in images().items()}
    assert scores["sample"] < scores["blur"] and scores["sample"] < scores["noisy"]


def test_niqe_refuses_an_image_smaller_than_one_block():
    with pytest.raises(ValueError, match="96x96"):
        niqe(np.zeros((64, 200, 3), np.float32))


def test_niqe_of_a_flat_image_is_nan_not_an_error():
    assert np.isnan(niqe(np.full((200, 300, 3), 0.2, np.float32)))
