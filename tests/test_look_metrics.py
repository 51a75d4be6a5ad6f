"""Black level, its change, NIQE in the look metrics, and GT-mean PSNR/SSIM for paired sets."""

from __future__ import annotations

import numpy as np

from lowlight_cli.evaluation.evaluate import gt_mean
from lowlight_cli.evaluation.look import look_metrics

from conftest import SAMPLE, load_rgb


def test_black_level_sees_lifted_blacks_and_leaves_an_untouched_photo_at_zero_change():
    photo = load_rgb(SAMPLE, (300, 200))
    same = look_metrics(photo, photo)
    assert same["black_change"] == 0.0
    fog = look_metrics(photo, np.clip(photo * 0.8 + 0.08, 0, 1).astype(np.float32))
    assert fog["black"] > same["black"] + 5 and fog["black_change"] > 5
    assert np.isfinite(same["niqe"]) and same["niqe"] > 0


def test_gt_mean_scores_restoration_apart_from_exposure():
    from lowlight_cli.evaluation.metrics import psnr_images

    target = load_rgb(SAMPLE, (300, 200))
    darker = (target * 0.5).astype(np.float32)
    assert psnr_images(darker, target) < 25
    assert psnr_images(gt_mean(darker, target), target) > 40
    blurred = __import__("cv2").GaussianBlur(darker, (0, 0), 3.0)
    assert psnr_images(gt_mean(blurred, target), target) < psnr_images(gt_mean(darker, target), target) - 10
