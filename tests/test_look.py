"""The look report: metrics that see exposure, clipping, colour shifts, chroma, contrast and noise, and
`lowlight eval` on folders of photos, paired or not, with its CSVs and contact sheet."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE, load_rgb
from PIL import Image
from typer.testing import CliRunner

from lowlight_cli.cli.app import app
from lowlight_cli.colour import LUMA, gamma_to_mean, mean_luma
from lowlight_cli.evaluation.look import immerkaer_noise_sigma, look_metrics

PHOTOS = Path(__file__).parent / "data" / "synth"
runner = CliRunner()


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_rgb(sorted(PHOTOS.glob("*.jpg"))[0])


def test_an_unchanged_photo_scores_neutral(photo):
    m = look_metrics(photo, photo)
    assert m["delta_ab"] < 0.05 and abs(m["chroma_ratio"] - 1) < 1e-3
    assert abs(m["contrast_ratio"] - 1) < 1e-3 and abs(m["local_contrast"] - 1) < 1e-3
    assert m["luma"] == pytest.approx(mean_luma(photo))


def test_a_brightened_photo_with_its_own_colours_scores_neutral(photo):
    dark = np.power(photo, 2.5)
    m = look_metrics(dark, gamma_to_mean(dark, 0.5))
    assert (
        m["delta_ab"] < 0.05
        and abs(m["chroma_ratio"] - 1) < 1e-3
        and m["luma"] == pytest.approx(0.5, abs=0.01)
    )


def test_colour_shift_chroma_clipping_and_contrast_are_seen(photo):
    blue = np.clip(photo * np.float32([0.9, 0.97, 1.15]), 0, 1)
    assert look_metrics(photo, blue)["delta_b"] < -3
    grey = photo @ LUMA
    washed = 0.5 * photo + 0.5 * grey[..., None]
    m = look_metrics(photo, washed)
    assert 0.4 < m["chroma_ratio"] < 0.6 and m["delta_ab"] < 3
    hazy = 0.3 + 0.6 * photo  # lifted blacks, lower contrast
    assert look_metrics(photo, hazy)["contrast_ratio"] < 0.8
    blown = np.clip(photo * 2.0, 0, 1)
    assert look_metrics(photo, blown)["clipped"] > look_metrics(photo, photo)["clipped"] + 0.1
    # newly clipped: only what the method blew out, not what the photo had already
    lit = np.clip(photo * 1.3, 0, 1)
    assert look_metrics(lit, lit)["clipped"] > 0.01 and look_metrics(lit, lit)["clipped_new"] == 0
    assert look_metrics(lit, np.clip(lit * 2.0, 0, 1))["clipped_new"] > 0.03


@pytest.mark.parametrize("sigma", [0.005, 0.02])
def test_noise_estimate_finds_added_noise_in_flat_regions(photo, sigma):
    """On a smooth scene plus white noise the estimate is within 20 % of the true sigma."""
    import cv2

    smooth = cv2.GaussianBlur(photo, (0, 0), 6)
    noisy = smooth + np.random.default_rng(0).normal(0, sigma, smooth.shape).astype(np.float32)
    # luma of i.i.d. channel noise has sigma * |LUMA|
    expected = sigma * float(np.linalg.norm(LUMA))
    assert immerkaer_noise_sigma(noisy) == pytest.approx(expected, rel=0.2)
    assert immerkaer_noise_sigma(smooth) < 0.2 * expected


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for p in sorted(PHOTOS.glob("*.jpg"))[:2]:
        Image.open(p).convert("RGB").resize((160, 120)).save(folder / f"{p.stem}.png")
    Image.open(SAMPLE).convert("RGB").resize((90, 120)).save(folder / "portrait.png")
    return folder


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_eval_on_unpaired_photos_writes_look_metrics_and_a_contact_sheet(photo_folder, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "eval",
            "--data",
            str(photo_folder),
            "-w",
            "official",
            "--baseline",
            "gamma",
            "-o",
            str(out),
            "--sheet-height",
            "64",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = _rows(out / "per_image.csv")
    assert len(rows) == 2 * 3 and {r["method"] for r in rows} == {"official", "gamma"}
    for r in rows:
        assert r["psnr"] == "" and r["ssim"] == ""  # no targets: not pretended
        for key in (
            "luma",
            "clipped",
            "delta_ab",
            "chroma_ratio",
            "contrast_ratio",
            "local_contrast",
            "noise",
        ):
            assert np.isfinite(float(r[key])), key
    summary = {r["method"]: r for r in _rows(out / "summary.csv")}
    assert float(summary["official"]["luma"]) > float(summary["official"]["in_luma"])
    sheet = np.asarray(Image.open(out / "sheet.png"))
    assert sheet.shape[0] > 3 * 64 and sheet.shape[1] > 3 * 64  # 3 rows, input + 2 methods
    assert "Δa*b*" in (out / "summary.md").read_text()


def test_eval_self_target_scores_each_photo_against_itself(photo_folder, tmp_path):
    result = runner.invoke(
        app,
        [
            "eval",
            "--data",
            str(photo_folder),
            "--self-target",
            "-w",
            "official",
            "-o",
            str(tmp_path),
            "--no-sheet",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = _rows(tmp_path / "per_image.csv")
    assert all(5 < float(r["psnr"]) < 60 for r in rows)
    assert not (tmp_path / "sheet.png").exists()


def test_eval_on_an_empty_folder_says_so(tmp_path):
    result = runner.invoke(
        app, ["eval", "--data", str(tmp_path), "--baseline", "gamma", "-o", str(tmp_path / "r")]
    )
    assert result.exit_code != 0 and "no images found" in result.output and "Traceback" not in result.output
