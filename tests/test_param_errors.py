"""API errors name the parameter they are about (`LowlightError.param`) in the API's words; the CLI's one
error line names the flag that sets it instead."""

from __future__ import annotations

import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from lowlight_cli.cli.app import app
from lowlight_cli.cli.console import describe, flag, flags_in, with_flag
from lowlight_cli.errors import DeviceError, LowlightError

runner = CliRunner()


def test_the_cli_puts_the_flag_where_the_api_names_its_parameter():
    assert with_flag(LowlightError("strength 5 is out of range: ...", param="strength")) == (
        "--strength 5 is out of range: ..."
    )
    assert with_flag(LowlightError("pix_fmt: no such format", param="pix_fmt")) == "--pix-fmt: no such format"
    assert with_flag(LowlightError("actors 0: must be at least 1", param="actors")) == (
        "--ray-actors 0: must be at least 1"
    )
    assert with_flag(LowlightError("no images found in x")) == "no images found in x"  # no parameter
    assert (
        with_flag(LowlightError("tiles: the tile sizes", param="tile")) == "tiles: the tile sizes"
    )  # not its name
    assert describe(DeviceError("device tpu: unknown", param="device")) == ("--device tpu: unknown", 1)
    assert flag("cors_origins") == "--cors-origin" and flag("max_queue") == "--max-queue"
    # parameters named in backticks anywhere in the message, not only the leading one
    assert with_flag(LowlightError("x.mp4: exists; replace it with `overwrite`")) == (
        "x.mp4: exists; replace it with --overwrite"
    )
    assert with_flag(LowlightError("give `weights` and/or `baselines`")) == "give --weights and/or --baseline"
    assert with_flag(LowlightError("photos go through `lowlight enhance`")) == (
        "photos go through `lowlight enhance`"
    )  # a command, not a parameter
    # messages that are no exception (a batch's per-file failures)
    assert flags_in("a.png: out of memory; retry with a smaller `tile`") == (
        "a.png: out of memory; retry with a smaller --tile"
    )


def test_the_command_line_shows_flags_where_the_api_names_parameters(tmp_path):
    import shutil

    shutil.copy(SAMPLE, tmp_path / SAMPLE.name)
    result = runner.invoke(app, ["eval", "--data", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "give --weights and/or --baseline" in result.output, result.output
    result = runner.invoke(
        app, ["eval", "--data", str(tmp_path), "--baseline", "curve", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 1, result.output
    assert "--baseline 'curve': unknown (available: " in result.output, result.output


def test_enhance_names_its_output_folder_and_suffix_as_flags(tmp_path):
    """The API says `out` and `suffix` (batch.enhance_photos); the command's lines say --out and --suffix."""
    import shutil

    from lowlight_cli.io.paths import collect_inputs, output_path

    folder = tmp_path / "in"
    folder.mkdir()
    photo = folder / SAMPLE.name
    shutil.copy(SAMPLE, photo)
    with pytest.raises(LowlightError) as caught:
        collect_inputs([str(folder)], exclude=folder)
    assert caught.value.param == "out" and str(caught.value).startswith(f"out {folder}: the output folder is")
    [item] = collect_inputs([str(photo)])
    with pytest.raises(LowlightError, match="give a `suffix` or another `out` folder$"):
        output_path(item, None, "")
    result = runner.invoke(app, ["enhance", str(folder), "-o", str(folder)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"error: --out {folder}: the output folder is the input folder"), (
        result.output
    )
    assert "give another --out folder, or none to write beside" in result.output
    result = runner.invoke(app, ["enhance", str(photo), "--suffix", "", "--device", "cpu", "-q"])  # per file
    assert result.exit_code == 1, result.output
    assert (
        f"error: {photo}: the output would overwrite the input; give a --suffix or another --out folder\n"
        in (result.output)
    )
    assert "`" not in result.output and sorted(folder.iterdir()) == [photo]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / SAMPLE.name).write_bytes(b"earlier")  # skipped as video refuses: one wording
    result = runner.invoke(app, ["enhance", str(photo), "-o", str(tmp_path / "out"), "--device", "cpu"])
    assert (
        result.exit_code == 0
        and f"skip {tmp_path / 'out' / SAMPLE.name} (exists; replace it with --overwrite)" in (result.output)
    ), result.output


def test_output_folder_refusals_name_out_as_the_flag(tmp_path):
    """synth's folder of another dataset, the bundled weights' folder: the API says `out`, the CLI --out."""
    import json
    import shutil

    from lowlight_cli.synth.settings import DEFAULTS
    from lowlight_cli.weights.registry import bundled_dir

    src, out = tmp_path / "src", tmp_path / "pairs"
    src.mkdir()
    out.mkdir()
    shutil.copy(SAMPLE, src / SAMPLE.name)
    made = {**DEFAULTS.to_dict(), "bright_level": DEFAULTS.bright_level + 0.1}
    (out / "settings.json").write_text(json.dumps(made))
    result = runner.invoke(app, ["synth", "--src", str(src), "--out", str(out), "--workers", "0", "-q"])
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        f"error: {out} was made with other settings (bright_level); use another --out folder"
    )
    assert sorted(p.name for p in out.iterdir()) == ["settings.json"]
    result = runner.invoke(app, ["enhance", str(SAMPLE), "-o", str(bundled_dir() / "official"), "-q"])
    assert result.exit_code == 1 and result.output.strip().startswith(
        f"error: {bundled_dir() / 'official'}: inside the bundled weights"
    )
    assert result.output.strip().endswith("write to another folder (--out)"), result.output


def test_api_errors_name_the_parameter_in_api_terms():
    from lowlight_cli.inference.controls import Controls, Exposure
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.precision import resolve_precision

    cases = [
        (lambda: Controls(strength=5), "strength", "strength 5 is out of range"),
        (lambda: Controls(denoise=-1), "denoise", "denoise -1 is out of range"),
        (lambda: Exposure.parse("bright"), "exposure", "exposure 'bright': expected auto"),
        (
            lambda: resolve_precision("fp16", "torch", "cpu"),
            "precision",
            "precision fp16 (half) needs a CUDA",
        ),
        (
            lambda: Enhancer("official", backend="onnx-tensorrt", device="cpu"),
            "backend",
            "backend onnx-tensorrt",
        ),
    ]
    from lowlight_cli.serve.settings import ServeSettings, parse_amount
    from lowlight_cli.video.codecs import resolve

    cases += [
        (lambda: Enhancer("official", tile=-1), "tile", "tile -1 is out of range"),
        (
            lambda: Enhancer("official", half=True, precision="fp32"),
            "precision",
            "precision fp32 contradicts",
        ),
        (lambda: resolve("h264", "yuv420p", 64, 48, crf=99), "crf", "crf 99: libx264 takes 0..51"),
        (lambda: resolve("h264", "yuv420p", 64, 48, preset="warp"), "preset", "preset warp: libx264 takes"),
        (lambda: resolve("h264", "yuv420p", 64, 48, pix_fmt="rgb48"), "pix_fmt", "pix_fmt rgb48: libx264"),
        (lambda: ServeSettings(workers=0).checked(), "workers", "workers 0: serve runs photos"),
        (lambda: ServeSettings(cors_origins=("*",)).checked(), "cors_origins", "cors_origins *: wildcards"),
        (lambda: ServeSettings(max_queue=0).checked(), "max_queue", "max_queue 0: must be at least 1"),
        (lambda: parse_amount("lots", "max_pixels", "p"), "max_pixels", "max_pixels 'lots': expected"),
    ]
    for call, param, start in cases:
        with pytest.raises(LowlightError) as caught:
            call()
        assert caught.value.param == param and str(caught.value).startswith(start), str(caught.value)
        assert "--" not in str(caught.value).split(";")[0]


@pytest.mark.parametrize(
    "args, line",
    [
        (["--workers", "0"], "error: --workers 0: serve runs photos on worker threads"),
        (["--cors-origin", "*"], "error: --cors-origin *: wildcards are refused"),
        (["--max-pixels", "lots"], "error: --max-pixels 'lots': expected a number"),
    ],
)
def test_serve_errors_name_the_flag(args, line):
    result = runner.invoke(app, ["serve", *args])
    assert result.exit_code == 1 and result.output.strip().startswith(line), result.output


@pytest.mark.parametrize(
    "args, line",
    [
        (["--exposure", "bright"], "error: --exposure 'bright': expected auto"),
        (["--device", "cpu", "--precision", "fp16"], "error: --precision fp16 (half) needs a CUDA device"),
        (
            ["--device", "cpu", "--backend", "onnx-tensorrt"],
            "error: --backend onnx-tensorrt runs on an NVIDIA GPU",
        ),
    ],
)
def test_the_cli_error_line_names_the_flag(tmp_path, args, line):
    result = runner.invoke(app, ["enhance", str(SAMPLE), "-o", str(tmp_path), *args])
    assert result.exit_code == 1 and result.output.startswith(line), result.output
    assert len(result.output.strip().splitlines()) == 1


def test_batch_runs_make_the_commands_checks(tmp_path):
    """`batch.enhance_photos` and `batch.synthesize` (what enhance and synth run) refuse bad options before
    any work, naming the parameter; the CLI names the flag."""
    from lowlight_cli.batch import enhance_photos, synthesize
    from lowlight_cli.cluster.runtime import Resources
    from lowlight_cli.synth.settings import DEFAULTS

    cases = [
        (lambda: enhance_photos([SAMPLE], tmp_path, quality=0), "quality"),
        (lambda: enhance_photos([SAMPLE], tmp_path, fmt="gif"), "fmt"),
        (lambda: synthesize(str(SAMPLE.parent), out=tmp_path, shard=(3, 2)), "shard"),
        (lambda: synthesize(str(SAMPLE.parent), out=tmp_path, workers=-1), "workers"),
        (lambda: synthesize("coco"), "root"),
        (lambda: DEFAULTS.with_changes(gamma=(3.0, 2.0)), "gamma"),
        (lambda: DEFAULTS.with_changes(cast_share=1.5), "cast_share"),
        (lambda: Resources(actors=0), "actors"),
    ]
    for call, param in cases:
        with pytest.raises(LowlightError) as caught:
            call()
        assert caught.value.param == param and str(caught.value).startswith(param), str(caught.value)
    assert not any(tmp_path.iterdir())
    with pytest.raises(LowlightError, match="^no images found in"):
        synthesize(str(tmp_path), out=tmp_path / "pairs")
    assert DEFAULTS.with_changes(gamma=[2, 3], seed=None) == DEFAULTS.with_changes(gamma=(2, 3))


@pytest.mark.parametrize(
    "args, line",
    [
        (["--shard", "3/2"], "error: --shard 3/2: K must be between 1 and N"),
        (["--gamma", "3,2"], "error: --gamma 3,2: low is above high"),
        (
            ["--src", "coco", "--coco-parts", "everything", "--download"],
            "error: --coco-parts: unknown everything",
        ),
    ],
)
def test_synth_errors_name_the_flag(tmp_path, args, line):
    base = ["synth", "--src", str(tmp_path), "--root", str(tmp_path / "coco"), "--out", str(tmp_path / "o")]
    result = runner.invoke(app, [*base, *args])  # the last --src counts
    assert result.exit_code == 1 and result.output.strip().startswith(line), result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, nothing fetched
