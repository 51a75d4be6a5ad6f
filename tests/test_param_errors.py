"""API errors name the parameter they are about (`LowlightError.param`) in the API's words; the CLI's one
error line names the flag that sets it instead."""

from __future__ import annotations

import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from lowlight_cli.cli.app import app
from lowlight_cli.cli.console import describe, flag, with_flag
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
    for call, param, start in cases:
        with pytest.raises(LowlightError) as caught:
            call()
        assert caught.value.param == param and str(caught.value).startswith(start), str(caught.value)
        assert "--" not in str(caught.value).split(";")[0]


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
