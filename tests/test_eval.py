"""Evaluation: metrics, baselines, pair discovery, reports and the `lowlight eval` command."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lowlight_cli.evaluation.baselines import BASELINES
from lowlight_cli.evaluation.metrics import psnr, ssim

sys.path.insert(0, str(Path(__file__).parent))
from _synthdata import make_lol_dir as lol_folder  # noqa: E402


def test_metrics_match_their_definitions():
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 0.8
    assert psnr(x + 0.1, x) == pytest.approx(20.0, abs=1e-4)  # MSE 0.01
    assert ssim(x, x) == pytest.approx(1.0) and ssim(x * 0.5, x) < 0.99


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baselines_brighten_a_dark_image_and_keep_its_shape(name):
    rng = np.random.default_rng(0)
    dark = (rng.uniform(0, 1, (48, 64, 3)) ** 3 * 0.2).astype(np.float32)
    out = BASELINES[name](dark)
    assert out.shape == dark.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert out.mean() > 1.5 * dark.mean()


def tiny_weights(root: Path) -> Path:
    from lowlight_cli.models.agllnet import AgLLNet
    from lowlight_cli.models.config import AgLLNetConfig
    from lowlight_cli.weights.model_io import save_model

    torch.manual_seed(0)
    config = AgLLNetConfig.from_dict(
        {
            "attention_channels": [4, 4],
            "fem_layers": 2,
            "fem_channels": 4,
            "branches": ["can", "resnet"],
            "branch_attention": [False, True],
            "can_channels": 4,
            "can_dilations": [1, 2],
        }
    )
    return save_model(AgLLNet(config), root / "tiny")


def test_lime_guided_filter_is_he_et_al_with_mirrored_box_means():
    """The OpenCV guided filter equals the textbook formula computed with explicit mirrored windows
    (it replaced kornia.filters.guided_blur, which it matched to 7e-7 on random images)."""
    from lowlight_cli.evaluation.baselines import guided_filter

    rng = np.random.default_rng(0)
    img, k, eps = rng.random((9, 11)).astype(np.float32) ** 2, 5, 1e-3

    def box(x):
        p = np.pad(x, k // 2, mode="reflect")
        return np.array(
            [[p[i : i + k, j : j + k].mean() for j in range(x.shape[1])] for i in range(x.shape[0])]
        )

    mean = box(img.astype(np.float64))
    a = (box(img.astype(np.float64) ** 2) - mean**2) / (box(img.astype(np.float64) ** 2) - mean**2 + eps)
    b = mean - a * mean
    np.testing.assert_allclose(guided_filter(img, img, k, eps), box(a) * img + box(b), atol=1e-6)
    flat = np.full((8, 8), 0.3, np.float32)
    np.testing.assert_allclose(guided_filter(flat, flat, 15, eps), flat, atol=1e-6)


def test_find_samples_reads_lol_folders_and_synth_test_splits(tmp_path):
    from lowlight_cli.errors import LowlightError
    from lowlight_cli.evaluation.evaluate import find_samples

    lol = lol_folder(tmp_path / "lol")
    assert [s.name for s in find_samples(lol)] == ["0.png", "1.png"]
    (lol / "low" / "2.png").write_bytes((lol / "low" / "0.png").read_bytes())
    with pytest.raises(LowlightError, match="no high/ image"):
        find_samples(lol)
    from _synthdata import make_synth_dir

    synth = make_synth_dir(tmp_path / "s", images=4)
    samples = find_samples(synth, "train") + find_samples(synth, "test")
    assert len(samples) == 4 and all(s.pair is not None and not s.pair.real for s in samples)
    assert all(low.shape == high.shape == (80, 96, 3) for low, high in (s.read() for s in samples))


def test_lol_split_holds_out_the_pairs_that_training_never_sees(tmp_path):
    from lowlight_cli.evaluation.evaluate import find_samples
    from lowlight_cli.synth.store import real_split
    from lowlight_cli.training.data import RealPairs

    lol = lol_folder(tmp_path / "lol", n=12)
    everything = [s.name for s in find_samples(lol)]
    train, test = ([s.name for s in find_samples(lol, split)] for split in ("train", "test"))
    assert (
        len(everything) == 12 and sorted(train + test) == everything and test and not set(train) & set(test)
    )
    assert all(real_split(n) == "test" for n in test) and RealPairs(lol, "train", crop=None).names == train


def test_eval_plan_checks_the_report_folder_first_and_keeps_the_first_limit_images(tmp_path):
    """`evaluate.plan` (what `lowlight eval` runs) refuses an unwritable `out` before it reads the data or
    loads weights, and `limit` keeps the first images."""
    from lowlight_cli.errors import FileError, LowlightError
    from lowlight_cli.evaluation.evaluate import plan

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FileError, match="is a file, not a folder"):
        plan(tmp_path / "nowhere", blocker / "rep", ["no-such-weights"])
    lol = lol_folder(tmp_path / "lol", n=3)
    run = plan(lol, tmp_path / "rep", baselines=["gamma"], limit=2)
    assert [s.name for s in run.samples] == ["0.png", "1.png"] and list(run.methods) == ["gamma"]
    assert len(plan(lol, tmp_path / "rep", baselines=["gamma"]).samples) == 3
    with pytest.raises(LowlightError, match="^limit 0: must be at least 1") as caught:
        plan(lol, tmp_path / "rep", baselines=["gamma"], limit=0)
    assert caught.value.param == "limit" and not (tmp_path / "rep").exists()


def test_cli_eval_writes_per_image_rows_and_their_means(tmp_path):
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app

    lol = lol_folder(tmp_path / "lol")
    weights = tiny_weights(tmp_path)
    out = tmp_path / "report"
    args = [
        "eval",
        "--data",
        str(lol),
        "--weights",
        str(weights),
        "--baseline",
        "gamma",
        "--baseline",
        "lime",
        "--device",
        "cpu",
        "-o",
        str(out),
        "-q",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with open(out / "per_image.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["method"], r["image"]) for r in rows] == [
        (m, i) for i in ("0.png", "1.png") for m in ("gamma", "lime", str(weights))
    ]
    with open(out / "summary.csv", newline="") as f:
        summary = {r["method"]: r for r in csv.DictReader(f)}
    for method, s in summary.items():
        mine = [float(r["psnr"]) for r in rows if r["method"] == method]
        assert float(s["psnr"]) == pytest.approx(np.mean(mine)) and int(s["images"]) == 2
        assert float(s["seconds"]) > 0
    assert float(summary["gamma"]["psnr"]) > float(summary[str(weights)]["psnr"])  # a random net loses
    assert (
        "lpips" not in rows[0] and "LPIPS" not in (out / "summary.md").read_text()
    )  # not reported: no weights offline
    assert "| gamma | 2 |" in (out / "summary.md").read_text()
    bad = CliRunner().invoke(app, ["eval", "--data", str(lol), "--baseline", "retinex", "-o", str(out)])
    assert bad.exit_code == 1 and "retinex" in bad.output
