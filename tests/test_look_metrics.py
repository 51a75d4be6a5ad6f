"""Black level, its change, NIQE in the look metrics, and GT-mean PSNR/SSIM for paired sets."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE, load_rgb

from lowlight_cli.evaluation.evaluate import gt_mean
from lowlight_cli.evaluation.look import look_metrics


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


def test_gt_mean_equals_the_target_grey_and_clips():
    from lowlight_cli.colour import mean_luma

    target = load_rgb(SAMPLE, (300, 200))
    dim = (target * 0.3).astype(np.float32)
    scaled = gt_mean(dim, target)
    assert scaled.dtype == np.float32 and scaled.min() >= 0 and scaled.max() <= 1
    assert mean_luma(scaled) == pytest.approx(
        mean_luma(target), rel=2e-3
    )  # a gain of 1/0.3, clipped where needed
    np.testing.assert_allclose(gt_mean(target, target), target, atol=1e-6)
    assert np.isfinite(gt_mean(np.zeros_like(target), target)).all()  # a black output: no division by zero


def test_eval_report_has_the_new_columns_and_says_which_metrics_it_could_not_measure(tmp_path):
    """lol_folder's images are 100x72, under one NIQE block: the table's NIQE is empty and a line under the
    table (and in summary.md) says why; GT-mean PSNR/SSIM and the black level's change are in the table and
    the CSVs."""
    import csv

    from _synthdata import make_lol_dir
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app

    lol = make_lol_dir(tmp_path / "lol")
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["eval", "--data", str(lol), "--baseline", "gamma", "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    for text in (result.output, (out / "summary.md").read_text()):
        assert "GT-mean PSNR" in text and "black Δ (median)" in text
        assert "NIQE not measured on some images (gamma 2 of 2): it needs at least 96x96 px" in text
        assert text.count("| method |") == 1  # one table
    with open(out / "per_image.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(
        float(r["psnr_gt_mean"]) > 0 and float(r["ssim_gt_mean"]) > 0 and r["black_change"] != ""
        for r in rows
    )
    assert all(r["niqe"] == "nan" for r in rows)


def test_eval_scores_niqe_without_a_note_on_photos_large_enough(tmp_path):
    from PIL import Image
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app

    folder = tmp_path / "photos"
    folder.mkdir()
    for i, scale in enumerate((0.2, 0.35)):
        Image.fromarray(np.round(load_rgb(SAMPLE, (300, 200)) * scale * 255).astype(np.uint8)).save(
            folder / f"{i}.png"
        )
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["eval", "--data", str(folder), "--baseline", "gamma", "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "not measured" not in result.output
    summary = (out / "summary.md").read_text().splitlines()
    head = [c.strip() for c in summary[0].split("|")]
    gamma = [c.strip() for c in summary[2].split("|")]
    assert float(gamma[head.index("NIQE (median)")]) > 0 and gamma[head.index("black Δ (median)")].startswith(
        "+"
    )


def test_the_rule_asks_niqe_below_official_and_gamma_and_black_within_one_of_official():
    from benchmarks import look_tables

    def dark(black, niqe):
        return {"delta_ab": 1.0, "chroma_ratio": 1.0, "clipped_new": 0.0, "black": black, "niqe": niqe}

    def judge(candidate):
        return look_tables.verdict(
            {"night": {"official": dark(3.0, 4.2), "gamma": dark(15.0, 4.0), "cand": candidate}}, "cand"
        )

    lines, passed = judge(dark(3.9, 3.9))  # black within 1 of official's, NIQE below both
    assert "| night | niqe below gamma's | 3.90 | 4.00 (gamma) | met |" in lines
    assert not passed  # no worse on all, but better on only one of five criteria (NIQE)
    assert judge(dark(4.1, 3.9))[0][3].endswith("**worse** |")  # black 1.1 above official's
    assert judge(dark(3.0, 4.25))[0][4].endswith("**worse** |")  # NIQE above official's: no tolerance
    lines, _ = judge(dark(3.0, 4.1))  # below official's, not below gamma's
    assert lines[4].endswith("better |") and lines[5].endswith("**not met** |")
    lines, _ = judge({**dark(3.0, 4.1), "black": None, "niqe": None})  # measured before the columns existed
    assert [line.split(" | ")[-1] for line in lines[3:]] == ["**not measured** |", "**not measured** |"]
    block = look_tables._rule_block("cand", "official", *judge(dark(3.0, 4.1)))
    assert "not met: night niqe below gamma's" in block[0]
