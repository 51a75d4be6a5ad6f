"""A batch never hides a photo (issue 24): two inputs that map to one output name refuse the run before any
work, naming both (local, `-r` trees, several folders under one `-o`, `--ray`), and an `-o` folder that is (or
holds) the input folder is named as such instead of 'no images found'."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from lowlight_cli.errors import LowlightError
from lowlight_cli.io.paths import collect_inputs


def _photos(root: Path, *names: str) -> None:
    rng = np.random.default_rng(0)
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 40, (24, 32, 3), dtype=np.uint8)).save(root / name)


def _cli(*args) -> object:
    from lowlight_cli.cli.app import app

    return CliRunner().invoke(app, [str(a) for a in args])


def _one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_cli_two_inputs_with_one_output_name_refuse_the_run_naming_both(tmp_path):
    """`a.jpg` and `a.png` with `--format png`: before, the second was 'skip (exists)' and the exit was 0."""
    folder, out = tmp_path / "folder", tmp_path / "out"
    _photos(folder, "a.jpg", "a.png", "b.jpg")
    result = _cli("enhance", folder, "-o", out, "--format", "png", "--backend", "onnx")
    assert result.exit_code == 1, result.output
    line = _one_error_line(result)
    assert str(folder / "a.jpg") in line and str(folder / "a.png") in line and str(out / "a.png") in line
    assert "skip" not in result.output
    assert not out.exists() or not any(out.iterdir())  # refused before any work: b.jpg is not written either
    # beside the inputs too, and with -r in a tree
    result = _cli("enhance", folder, "--format", "png", "--backend", "onnx")
    assert result.exit_code == 1 and "a_enhanced.png" in _one_error_line(result)
    tree = tmp_path / "tree"
    _photos(tree, "x/c.tif", "x/c.png", "y/c.png")
    result = _cli("enhance", tree, "-r", "-o", out, "--format", "png", "--backend", "onnx")
    assert result.exit_code == 1
    line = _one_error_line(result)
    assert str(tree / "x" / "c.png") in line and str(tree / "x" / "c.tif") in line
    result = _cli(
        "enhance", folder, "-o", out, "--format", "png", "--ray", "local"
    )  # refused before Ray starts
    assert result.exit_code == 1 and "would both be written" in _one_error_line(result)
    assert sorted(p.name for p in folder.iterdir()) == ["a.jpg", "a.png", "b.jpg"]  # inputs untouched


def test_the_api_refuses_every_kind_of_clash_before_any_work(tmp_path):
    from lowlight_cli.cluster.ray_runs import enhance_ray
    from lowlight_cli.inference.files import enhance_items
    from lowlight_cli.io.paths import check_distinct_outputs

    _photos(tmp_path, "f/a.jpg", "f/a.png", "g/a.jpg", "h/p.jpg", "h/p.png")
    f = collect_inputs([str(tmp_path / "f")])
    check_distinct_outputs(f, tmp_path / "out", "")  # each keeps its format: a.jpg, a.png
    with pytest.raises(LowlightError, match=r"a\.jpg and .*a\.png would both be written to .*a\.png"):
        check_distinct_outputs(f, tmp_path / "out", "", "png")
    with pytest.raises(
        LowlightError, match="would both be written"
    ):  # raised at the call: no enhancer is used
        enhance_items(None, f, tmp_path / "out", "", "png")
    with pytest.raises(LowlightError, match="would both be written"):  # before connecting to any cluster
        enhance_ray(f, tmp_path / "out", "", {}, "png", address="ray://nowhere:1")
    two_folders = collect_inputs([str(tmp_path / "f" / "a.jpg"), str(tmp_path / "g")])
    with pytest.raises(LowlightError, match=r"f/a\.jpg and .*g/a\.jpg would both be written"):
        check_distinct_outputs(two_folders, tmp_path / "out", "")
    _photos(tmp_path, "m/a.jpg", "m/a_attention.png")  # with --save-maps, a.jpg's heat-map is a_attention.png
    maps = collect_inputs([str(tmp_path / "m" / "a.jpg"), str(tmp_path / "m" / "a_attention.png")])
    check_distinct_outputs(maps, tmp_path / "out", "")
    with pytest.raises(LowlightError, match=r"a\.jpg and .*a_attention\.png would both be written"):
        check_distinct_outputs(maps, tmp_path / "out", "", save_maps=True)
    # an output that would land on another input: h/p.png -> h/p.jpg beside it with --format jpeg
    with pytest.raises(LowlightError, match=r"p\.png: its output .*p\.jpg would overwrite the input"):
        check_distinct_outputs(collect_inputs([str(tmp_path / "h")]), None, "", "jpeg")
    assert not (tmp_path / "out").exists()


def test_output_folder_equal_to_the_input_folder_is_named_as_such(tmp_path):
    """`enhance in -o in` said 'no images found in in' about a folder full of photos."""
    folder = tmp_path / "in"
    _photos(folder, "p0.jpg", "p1.jpg", "sub/p2.jpg")
    result = _cli("enhance", folder, "-o", folder, "--backend", "onnx")
    assert result.exit_code == 1
    line = _one_error_line(result)
    assert "is the input folder" in line and str(folder) in line and "no images found" not in line
    with pytest.raises(LowlightError, match="is the input folder"):
        collect_inputs([str(folder / "*.jpg")], exclude=folder)
    with pytest.raises(LowlightError, match="holds the input folder"):
        collect_inputs([str(folder / "sub")], recursive=True, exclude=folder)
    assert [i.rel.as_posix() for i in collect_inputs([str(folder)], True, exclude=folder / "sub")] == [
        "p0.jpg",
        "p1.jpg",
    ]
    assert sorted(p.name for p in folder.iterdir()) == ["p0.jpg", "p1.jpg", "sub"]
