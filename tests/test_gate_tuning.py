"""`lowlight tune-gate` / `evaluation.gate_tuning`: every candidate gate measured on tiny validation sets, the
rule's choice, the CSV, and errors naming the parameter (the CLI its flag)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from _synthdata import make_synth_dir
from PIL import Image
from typer.testing import CliRunner

from lowlight_cli.cli.app import app
from lowlight_cli.errors import LowlightError
from lowlight_cli.evaluation.gate_tuning import (
    BLURS,
    DARK,
    DO_NO_HARM_DB,
    GATES,
    PAIRS,
    PHOTOS,
    Row,
    choose,
    tune_gate,
)

DATA = Path(__file__).resolve().parent / "data" / "synth"


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> tuple[Path, Path]:
    """Three well-exposed COCO photos at 160 px, and the test pairs of a tiny synth folder."""
    root = tmp_path_factory.mktemp("gate")
    photos = root / "photos-val"
    photos.mkdir()
    for src in sorted(DATA.glob("*.jpg")):
        image = Image.open(src).convert("RGB")
        image.thumbnail((160, 160))
        image.save(photos / f"{src.stem}.png")
    return photos, make_synth_dir(root, images=8)


def test_every_candidate_is_measured_and_the_rule_chooses(sets, tmp_path):
    photos, pairs = sets
    tuning = tune_gate("official", photos, pairs, out=tmp_path / "t.csv")
    assert len(tuning.rows) == 1 + len(GATES) * len(BLURS) and tuning.rows[0].gate is None
    assert tuning.images[PHOTOS] == 3 and tuning.images[PAIRS] >= 1 and tuning.set_aside is None
    no_gate = tuning.rows[0].psnr[PHOTOS]
    assert max(r.psnr[PHOTOS] for r in tuning.rows) > no_gate + 3  # a gate keeps well-exposed photos
    assert tuning.chosen == choose(tuning.rows)[0] and set(tuning.best_by_blur) == set(BLURS)
    if tuning.chosen is not None:
        assert tuning.chosen.psnr[PHOTOS] >= DO_NO_HARM_DB
    with open(tmp_path / "t.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(tuning.rows) and rows[0]["gate"] == "none"
    assert float(rows[0][PHOTOS]) == no_gate


def test_the_rule():
    """The do-no-harm target first, then no cost on the dark pairs, then the best PSNR on the pairs."""
    rows = [
        Row(None, 0.0, {PHOTOS: 20.0, PAIRS: 18.0, DARK: 16.0}),
        Row((0.1, 0.3), 0.0, {PHOTOS: 24.9, PAIRS: 19.5, DARK: 16.0}),  # harms well-exposed photos
        Row((0.2, 0.4), 0.0, {PHOTOS: 30.0, PAIRS: 19.0, DARK: 15.8}),  # holds dark pairs back
        Row((0.3, 0.5), 0.0, {PHOTOS: 26.0, PAIRS: 18.5, DARK: 15.95}),
        Row((0.3, 0.6), 0.4, {PHOTOS: 28.0, PAIRS: 18.7, DARK: 16.1}),
    ]
    chosen, by_blur = choose(rows, (0.0, 0.4, 0.1))
    assert chosen == rows[4] and by_blur == {0.0: rows[3], 0.4: rows[4], 0.1: None}
    assert choose(rows[:3], (0.0,))[0] is None


def test_bad_arguments_name_the_parameter_and_the_flag(sets, tmp_path):
    photos, pairs = sets
    with pytest.raises(LowlightError) as caught:
        tune_gate("official", photos, pairs, gates=[(0.5, 0.2)])
    assert caught.value.param == "gates"
    with pytest.raises(LowlightError, match="photos without targets") as caught:
        tune_gate("official", photos, photos)
    assert caught.value.param == "pairs"
    result = CliRunner().invoke(app, ["tune-gate", "--photos", str(photos), "--pairs", str(photos)])
    assert result.exit_code == 1
    assert result.output.strip().startswith(f"error: --pairs {photos}: photos without targets")


def test_the_command_prints_the_choice_and_writes_the_csv(sets, tmp_path):
    photos, pairs = sets
    out = tmp_path / "tuning.csv"
    args = [
        "tune-gate",
        "-w",
        "official",
        "--photos",
        str(photos),
        "--pairs",
        str(pairs),
        "-o",
        str(out),
        "-q",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "3 photos-val" in result.output and "no gate: photos-val" in result.output
    assert "chosen: " in result.output and f"wrote {out}" in result.output.replace("\n", "")
    assert out.is_file()
