"""Speed options: --precision, fast mode (guided upsampling), pipelined folder enhancement."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from conftest import SAMPLE, load_rgb

from lowlight_cli.errors import DeviceError, LowlightError
from lowlight_cli.inference.precision import PRECISIONS, resolve_precision
from lowlight_cli.weights.registry import ONNX_MANIFEST, resolve_onnx


def psnr(a, b):
    return 10 * np.log10(1 / np.mean((np.asarray(a, np.float64) - b) ** 2))


# --- precision ---------------------------------------------------------------------------------------------


def test_precision_rules():
    assert PRECISIONS == ("fp32", "fp16", "auto")
    graphs = resolve_onnx("official")
    assert set(graphs.graphs) == {"fp32", "fp16"}
    no_fp16 = dataclasses.replace(graphs, graphs={"fp32": graphs.graphs["fp32"]})
    assert resolve_precision("auto", "onnx", "cpu", graphs) == "fp32"
    assert resolve_precision("auto", "onnx", "cuda", graphs) == "fp16"
    assert resolve_precision("auto", "onnx", "cuda", no_fp16) == "fp32"  # no fp16 graphs: fp32 on the GPU
    assert resolve_precision("auto", "torch", "cpu", None) == "fp32"
    assert resolve_precision("auto", "torch", "cuda", None) == "fp16"
    assert resolve_precision("fp32", "onnx", "cuda", graphs) == "fp32"
    for args, message in [
        (("fp16", "onnx", "cpu", graphs), "needs a CUDA device"),
        (("fp16", "torch", "cpu", None), "needs a CUDA device"),
        (("fp16", "onnx", "cuda", no_fp16), "no fp16 graphs"),
        (("int8", "onnx", "cpu", graphs), "unknown"),
        (("bf16", "onnx", "cpu", graphs), "unknown"),
    ]:
        with pytest.raises(DeviceError, match=f"^precision .*{message}") as caught:
            resolve_precision(*args)
        assert caught.value.param == "precision"


def test_precision_int8_is_not_an_option():
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app

    result = CliRunner().invoke(app, ["enhance", str(SAMPLE), "--precision", "int8"])
    assert result.exit_code == 2 and "int8" in result.output  # typer refuses the value before any work


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    from lowlight_cli.inference.precision import cpu_flags

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni\n")
    assert cpu_flags(info) == {"fpu", "avx2", "avx512f", "avx512_vnni"}
    assert cpu_flags(tmp_path / "missing") == set()


def test_half_and_precision_must_agree():
    from lowlight_cli.inference.enhancer import Enhancer

    with pytest.raises(LowlightError, match="^precision fp32 contradicts half") as caught:
        Enhancer("official", device="cpu", backend="onnx", half=True, precision="fp32")
    assert caught.value.param == "precision"


def test_an_older_manifest_listing_int8_graphs_loads_fp32_and_fp16(tmp_path):
    """Exports of older versions listed int8 graphs; without their files the manifest still loads, and the
    fp32/fp16 graphs are still checked against their sha256."""
    folder = shutil.copytree(resolve_onnx("official").folder, tmp_path / "onnx")
    manifest = json.loads((folder / ONNX_MANIFEST).read_text())
    manifest["graphs"]["int8"] = {
        stage: {"file": f"{stage}.int8.onnx", "sha256": "0" * 64} for stage in ("attention", "local")
    }
    manifest["gates"] = {"int8": {"min_psnr_vs_fp32_db": 27.3, "max_metric_loss_db": 1.02, "passed": False}}
    (folder / ONNX_MANIFEST).write_text(json.dumps(manifest, indent=2))
    graphs = resolve_onnx(folder)
    assert set(graphs.graphs) == {"fp32", "fp16"}
    assert not any(p.name.endswith(".int8.onnx") for p in folder.iterdir())
    (folder / "local.onnx").write_bytes(b"edited")
    with pytest.raises(LowlightError, match="sha256"):
        resolve_onnx(folder)


def test_the_bundled_weights_ship_no_int8_graphs():
    from lowlight_cli.weights.registry import BUNDLED, bundled_dir

    for name in BUNDLED:
        folder = resolve_onnx(name).folder
        assert not list(folder.glob("*int8*")), name
        manifest = json.loads((folder / ONNX_MANIFEST).read_text())
        assert set(manifest["graphs"]) <= {"fp32", "fp16"} and "gates" not in manifest, name
    assert not list(bundled_dir().rglob("*int8*"))


# --- fast mode ---------------------------------------------------------------------------------------------


def test_carry_restores_full_size_detail_and_does_not_bring_back_noise():
    from lowlight_cli.inference.guided_upsampling import apply, downscale, fit, small_size

    rgb = load_rgb(SAMPLE, (768, 512)) * 0.2
    size = small_size(512, 768, 192)
    assert size == (128, 192)
    small = downscale(rgb, size)
    gained = apply(rgb, *fit(small, np.clip(small * 4, 0, 1)))  # a network that multiplies by 4
    target = np.clip(rgb * 4, 0, 1)
    blurry = np.clip(downscale(downscale(rgb, size) * 4, (512, 768)), 0, 1)
    assert psnr(gained, target) > psnr(blurry, target) + 3  # the full-size edges come back
    rng = np.random.default_rng(0)
    flat = np.full((512, 768, 3), 0.1, np.float32)
    noisy = flat + rng.normal(0, 0.01, flat.shape).astype(np.float32)
    out = apply(noisy, *fit(downscale(noisy, size), np.clip(downscale(noisy, size) * 4, 0, 1)))
    assert (
        out.std() < 0.25 * 4 * 0.01
    )  # the x4 gain would make it 0.04; the denoised guide keeps it far below


def test_fast_mode_enhances_at_full_size_near_the_full_model():
    from lowlight_cli.inference.enhancer import Enhancer

    rgb = load_rgb(SAMPLE, (512, 384))
    full = Enhancer("official", device="cpu", backend="onnx").enhance(rgb)
    fast_enhancer = Enhancer("official", device="cpu", backend="onnx", fast=True, fast_side=256)
    fast = fast_enhancer.enhance(rgb)
    assert fast.image.shape == rgb.shape and fast.attention.shape == rgb.shape[:2]
    assert "fast" in fast_enhancer.description
    assert psnr(fast.image, full.image) > 20 and fast.image.mean() > 1.5 * rgb.mean()
    small = load_rgb(SAMPLE, (200, 150))  # already below the fast side: the full model runs
    np.testing.assert_allclose(
        fast_enhancer.enhance(small).image,
        Enhancer("official", device="cpu", backend="onnx").enhance(small).image,
        atol=1e-6,
    )


# --- pipelined folders -------------------------------------------------------------------------------------


def test_folder_outcomes_keep_input_order_past_a_bad_file(tmp_path):
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.files import enhance_items
    from lowlight_cli.io.images import read_image, write_image
    from lowlight_cli.io.paths import collect_inputs

    folder = tmp_path / "in"
    folder.mkdir()
    rgb, meta = read_image(SAMPLE)
    for name in ("a", "c", "e"):
        write_image(folder / f"{name}.jpg", rgb[:96, :128], meta)
    (folder / "b.jpg").write_bytes(b"not a jpeg")
    write_image(folder / "d.png", rgb[:64, :64], meta, fmt="png")
    (tmp_path / "out").mkdir()
    write_image(tmp_path / "out" / "e.png", rgb[:8, :8], meta, fmt="png")  # exists: skipped, not replaced
    enhancer = Enhancer("official", device="cpu", backend="onnx")
    outcomes = list(
        enhance_items(enhancer, collect_inputs([str(folder)], False), tmp_path / "out", "", "png")
    )
    # two inputs with one output name (d.jpg beside d.png) refuse the whole run: tests/test_batch_outputs.py
    assert [(o.source.name, o.status) for o in outcomes] == [
        ("a.jpg", "done"),
        ("b.jpg", "failed"),
        ("c.jpg", "done"),
        ("d.png", "done"),
        ("e.jpg", "skipped"),
    ]
    assert "b.jpg" in outcomes[1].error
    assert read_image(tmp_path / "out" / "e.png")[0].shape == (8, 8, 3)
    assert read_image(tmp_path / "out" / "a.png")[0].shape == (96, 128, 3)
