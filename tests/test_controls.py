"""User controls (`--strength`, `--exposure`, `--keep-colour`): each does what it says,
in the API and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE, load_rgb
from PIL import Image
from typer.testing import CliRunner

from lowlight_cli.cli.app import app
from lowlight_cli.colour import lab, mean_luma
from lowlight_cli.errors import LowlightError
from lowlight_cli.inference.controls import AUTO_RANGE, EXPOSURE_TOLERANCE, Controls, Exposure, keep_colour
from lowlight_cli.inference.enhancer import Enhancer

runner = CliRunner()


@pytest.fixture(scope="module")
def dark() -> np.ndarray:
    return load_rgb(SAMPLE, (192, 128))


@pytest.fixture(scope="module")
def full(dark) -> np.ndarray:
    """The network's own result, no controls."""
    return Enhancer("official", device="cpu", tile=0).enhance(dark).image


def with_controls(**kw) -> Enhancer:
    return Enhancer("official", device="cpu", tile=0, controls=Controls(**kw))


def test_strength_zero_returns_the_input_bit_for_bit(dark):
    out = with_controls(strength=0.0).enhance(dark).image
    assert out.dtype == np.float32 and np.array_equal(out, dark)


def test_strength_zero_writes_the_same_pixels(tmp_path):
    src = tmp_path / "in.png"
    Image.open(SAMPLE).convert("RGB").resize((96, 64)).save(src)
    result = runner.invoke(app, ["enhance", str(src), "-o", str(tmp_path / "out"), "--strength", "0"])
    assert result.exit_code == 0, result.output
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "in.png")), np.asarray(Image.open(src)))


def test_strength_blends_linearly_between_input_and_result(dark, full):
    half = with_controls(strength=0.5).enhance(dark).image
    np.testing.assert_allclose(half, dark + 0.5 * (full - dark), atol=1e-5)
    assert with_controls(strength=1.0).controls.neutral


@pytest.mark.parametrize("target", [0.25, 0.45, 0.6])
def test_exposure_target_is_reached_within_the_tolerance(dark, target):
    out = with_controls(exposure=Exposure.parse(str(target))).enhance(dark).image
    assert abs(mean_luma(out) - target) <= EXPOSURE_TOLERANCE


def test_exposure_ev_offset_scales_linear_light(full):
    up = Exposure.parse("+1ev").apply(full)
    down = Exposure.parse("-1EV").apply(full)
    lin = lambda x: np.power(x, 2.2)  # noqa: E731
    unclipped = lin(full) < 0.45
    np.testing.assert_allclose(lin(up)[unclipped], 2 * lin(full)[unclipped], rtol=0.02, atol=2e-4)
    np.testing.assert_allclose(lin(down), lin(full) / 2, rtol=0.02, atol=2e-4)


def test_exposure_auto_pulls_into_range_and_leaves_mid_images_alone(dark):
    assert abs(mean_luma(Exposure.parse("auto").apply(dark * 0.3)) - AUTO_RANGE[0]) <= EXPOSURE_TOLERANCE
    bright = np.clip(dark * 10, 0, 1)
    assert mean_luma(bright) > AUTO_RANGE[1]
    assert abs(mean_luma(Exposure.parse("auto").apply(bright)) - AUTO_RANGE[1]) <= EXPOSURE_TOLERANCE
    mid = np.full((8, 8, 3), 0.45, np.float32)
    assert Exposure.parse("auto").apply(mid) is mid


def test_keep_colour_keeps_the_inputs_colours_and_the_models_lightness(dark, full):
    from lowlight_cli.evaluation.look import look_metrics

    kept = with_controls(keep_colour=True).enhance(dark).image
    plain, mine = look_metrics(dark, full), look_metrics(dark, kept)
    assert mine["delta_ab"] < 0.5 < plain["delta_ab"]
    assert abs(mine["chroma_ratio"] - 1) < 0.05
    assert np.abs(lab(kept)[..., 0] - lab(full)[..., 0]).mean() < 1.0  # L* in 0-100


def test_keep_colour_does_not_bring_back_the_inputs_colour_noise(dark):
    """The input's colours at the scale of objects, not pixel for pixel: on a noisy dark photo the fine colour
    detail stays the network's (denoised) while the mean colour is the input's."""
    import cv2

    from lowlight_cli.colour import gamma_to_mean
    from lowlight_cli.evaluation.look import look_metrics

    def colour_noise(rgb: np.ndarray) -> float:  # mean |a*b* - a*b* blurred by 2 px|
        ab = lab(rgb)[..., 1:]
        return float(np.abs(ab - cv2.GaussianBlur(ab, (0, 0), 2)).mean())

    noisy = np.clip(dark + np.random.default_rng(0).normal(0, 0.02, dark.shape), 0, 1).astype(np.float32)
    full = with_controls().enhance(noisy).image
    kept = with_controls(keep_colour=True).enhance(noisy).image
    pixel_for_pixel = gamma_to_mean(noisy, mean_luma(full))  # the input's colours with their noise
    assert colour_noise(pixel_for_pixel) > 3 * colour_noise(full)  # measured 6.0 against 1.6
    assert colour_noise(kept) < 1.2 * colour_noise(full)  # measured 1.5
    assert look_metrics(noisy, kept)["delta_ab"] < 0.5 < look_metrics(noisy, full)["delta_ab"]  # 0.03 and 6.6
    assert keep_colour(noisy, noisy) is noisy  # a photo the gate kept whole comes back as it is


@pytest.mark.parametrize("text", ["abc", "0", "1.5", "+9ev", ""])
def test_bad_exposure_values_are_refused(text):
    with pytest.raises(LowlightError, match="^exposure ") as caught:  # the API's name; the CLI's flag below
        Exposure.parse(text)
    assert caught.value.param == "exposure"


def test_cli_reports_a_bad_control_in_one_line(tmp_path):
    result = runner.invoke(app, ["enhance", str(SAMPLE), "-o", str(tmp_path), "--exposure", "bright"])
    assert result.exit_code != 0
    assert "--exposure 'bright'" in result.output and "Traceback" not in result.output
    assert not any(tmp_path.iterdir())
    result = runner.invoke(app, ["enhance", str(SAMPLE), "-o", str(tmp_path), "--strength", "1.5"])
    assert result.exit_code != 0 and "Traceback" not in result.output


def _fine(a: np.ndarray) -> float:
    """Energy of the detail finer than the denoise scale (mean absolute high-pass)."""
    import cv2

    return float(np.abs(a - cv2.GaussianBlur(a, (0, 0), 2.0)).mean())


def test_denoise_one_is_the_networks_result_and_neutral(dark, full):
    assert with_controls(denoise=1.0).controls.neutral
    assert np.array_equal(with_controls(denoise=1.0).enhance(dark).image, full)


def test_denoise_zero_gives_back_the_inputs_grain_brightened(dark, full):
    """At 0 the fine detail is the input's own times the network's local gain;
    the coarse tone is the network's."""
    import cv2

    from lowlight_cli.inference.controls import regrain

    noisy = np.clip(dark + np.random.default_rng(0).normal(0, 0.01, dark.shape).astype(np.float32), 0, 1)
    clean = Enhancer("official", device="cpu", tile=0).enhance(noisy).image
    grainy = with_controls(denoise=0.0).enhance(noisy).image
    assert _fine(grainy) > 1.25 * _fine(clean)  # official itself leaves much of the noise
    base = lambda a: cv2.GaussianBlur(a, (0, 0), 8.0)  # noqa: E731
    assert float(np.abs(base(grainy) - base(clean)).mean()) < 0.02  # brightness and colour kept
    assert np.array_equal(regrain(noisy, noisy, 0.0), noisy)  # nothing brightened: nothing to give back


def test_denoise_blends_the_grain_linearly(dark):
    from lowlight_cli.inference.controls import regrain

    noisy = np.clip(dark + np.random.default_rng(1).normal(0, 0.01, dark.shape).astype(np.float32), 0, 1)
    clean = Enhancer("official", device="cpu", tile=0).enhance(noisy).image
    zero, half = regrain(noisy, clean, 0.0), regrain(noisy, clean, 0.5)
    inside = (zero > 0) & (zero < 1) & (clean > 0) & (clean < 1)
    np.testing.assert_allclose(half[inside], (clean + 0.5 * (zero - clean))[inside], atol=1e-5)
    levels = [_fine(regrain(noisy, clean, d)) for d in (1.0, 0.75, 0.5, 0.25, 0.0)]
    assert levels == sorted(levels)


@pytest.mark.parametrize("value", ["-0.1", "1.5"])
def test_denoise_out_of_range_is_one_line(tmp_path, value):
    result = runner.invoke(app, ["enhance", str(SAMPLE), "-o", str(tmp_path), "--denoise", value])
    assert result.exit_code != 0 and "--denoise" in result.output
    with pytest.raises(LowlightError, match=f"^denoise {value} is out of range") as caught:
        Controls(denoise=float(value))
    assert caught.value.param == "denoise"


def test_denoise_reaches_the_cli_output(tmp_path):
    src = tmp_path / "in.png"
    Image.open(SAMPLE).convert("RGB").resize((96, 64)).save(src)
    outs = {}
    for d in ("1", "0"):
        result = runner.invoke(
            app, ["enhance", str(src), "-o", str(tmp_path / d), "--denoise", d, "-w", "official"]
        )
        assert result.exit_code == 0, result.output
        outs[d] = np.asarray(Image.open(tmp_path / d / "in.png"), np.float32) / 255
    assert _fine(outs["0"]) > _fine(outs["1"])


def test_keep_colour_does_not_paint_the_inputs_quantised_blacks_olive():
    """Pixels only a code or two above black carry no colour, only the sensor's offsets (here green one code
    higher): brightened, those ratios are an olive cast. Keep-colour leaves such areas neutral and keeps the
    colour of the parts that have signal."""
    h, w = 64, 96
    source = np.zeros((h, w, 3), np.float32)
    source[:, : w // 2] = np.array([0, 1, 0], np.float32) / 255  # quantised black: green one code up
    source[:, w // 2 :] = np.array([0.20, 0.08, 0.05], np.float32)  # a lit, orange part
    enhanced = np.clip(source * 4 + 0.05, 0, 1).astype(np.float32)
    enhanced[:, : w // 2] = 0.12  # the network's neutral dark grey
    out = lab(keep_colour(source, enhanced))
    dark, lit = out[:, : w // 4], out[:, -w // 4 :]
    assert np.hypot(dark[..., 1], dark[..., 2]).mean() < 2.0  # neutral, not olive
    ref = lab(np.clip(source[:, -w // 4 :] ** 0.6, 0, 1))
    assert np.hypot(lit[..., 1], lit[..., 2]).mean() > 0.6 * np.hypot(ref[..., 1], ref[..., 2]).mean()


def test_the_pages_controls_mirror_the_python_constants():
    """controls.js repeats colour.LUMA and AUTO_RANGE for the slider preview: the same numbers in both."""
    import re
    from pathlib import Path

    from lowlight_cli.colour import LUMA

    script = (Path(__file__).resolve().parents[1] / "lowlight_cli/serve/static/controls.js").read_text()

    def js_array(name: str) -> list[float]:
        found = re.search(rf"^const {name} = \[([^\]]*)\];", script, re.M)
        assert found, f"controls.js has no `const {name} = [...]`"
        return [float(v) for v in found.group(1).split(",")]

    assert js_array("LUMA") == pytest.approx([float(w) for w in LUMA], abs=1e-7)
    assert js_array("AUTO_RANGE") == pytest.approx(list(AUTO_RANGE), abs=1e-12)
