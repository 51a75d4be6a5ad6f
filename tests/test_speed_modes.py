"""Speed options: int8 graphs and --precision, fast mode (guided upsampling), pipelined folder enhancement."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from conftest import SAMPLE, load_rgb

from lowlight_cli.errors import DeviceError, LowlightError
from lowlight_cli.inference.precision import INT8_GATE, cpu_has_int8_dot, resolve_precision
from lowlight_cli.weights.registry import ONNX_MANIFEST, resolve_onnx

VNNI = {"avx2", "avx512_vnni"}
NO_VNNI = {"avx2", "fma"}
PASSED = {"min_psnr_vs_fp32_db": 41.0, "max_metric_loss_db": 0.05}


def psnr(a, b):
    return 10 * np.log10(1 / np.mean((np.asarray(a, np.float64) - b) ** 2))


# --- precision ---------------------------------------------------------------------------------------------


def test_precision_rules():
    graphs = resolve_onnx("official")
    with_int8 = dataclasses.replace(graphs, graphs={**graphs.graphs, "int8": graphs.graphs["fp32"]})
    gated = dataclasses.replace(with_int8, gates={"int8": PASSED})
    assert resolve_precision("auto", "onnx", "cpu", gated, VNNI) == "int8"
    assert resolve_precision("auto", "onnx", "cpu", gated, NO_VNNI) == "fp32"  # no int8 dot products: no gain
    failed = dataclasses.replace(with_int8, gates={"int8": {**PASSED, "min_psnr_vs_fp32_db": 39.9}})
    assert resolve_precision("auto", "onnx", "cpu", failed, VNNI) == "fp32"
    lossy = dataclasses.replace(with_int8, gates={"int8": {**PASSED, "max_metric_loss_db": 0.11}})
    assert resolve_precision("auto", "onnx", "cpu", lossy, VNNI) == "fp32"
    assert resolve_precision("auto", "onnx", "cpu", with_int8, VNNI) == "fp32"  # never measured: not taken
    assert resolve_precision("auto", "onnx", "cuda", gated, VNNI) == "fp16"
    assert resolve_precision("auto", "torch", "cpu", None, VNNI) == "fp32"
    assert resolve_precision("int8", "onnx", "cpu", with_int8) == "int8"  # asked for: no gate needed
    no_int8 = dataclasses.replace(graphs, graphs={k: v for k, v in graphs.graphs.items() if k != "int8"})
    for args, message in [
        (("int8", "torch", "cpu", None), "--backend onnx"),
        (("int8", "onnx", "cuda", with_int8), "CPU provider"),
        (("int8", "onnx", "cpu", no_int8), "no int8 graphs"),
        (("fp16", "onnx", "cpu", graphs), "needs a CUDA device"),
        (("bf16", "onnx", "cpu", graphs), "unknown"),
    ]:
        with pytest.raises(DeviceError, match=message):
            resolve_precision(*args)
    assert INT8_GATE == {"min_psnr_vs_fp32_db": 40.0, "max_metric_loss_db": 0.1}


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    from lowlight_cli.inference.precision import cpu_flags

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_vnni\n")
    assert cpu_has_int8_dot(cpu_flags(info)) and not cpu_has_int8_dot({"avx2"})


def test_half_and_precision_must_agree():
    from lowlight_cli.inference.enhancer import Enhancer

    with pytest.raises(LowlightError, match="contradicts --precision int8"):
        Enhancer("official", device="cpu", backend="onnx", half=True, precision="int8")


def test_bundled_int8_graphs_run_close_to_fp32_and_record_how_they_were_built():
    """The bundled int8 graphs load (sha256 checked), run on the CPU provider and stay near fp32."""
    from lowlight_cli.inference.enhancer import Enhancer

    graphs = resolve_onnx("official")
    assert "int8" in graphs.graphs
    manifest = json.loads((graphs.folder / ONNX_MANIFEST).read_text())
    assert manifest["builds"]["int8"]["keep_fp32"]["local"]  # the layers kept in fp32 are recorded
    rgb = load_rgb(SAMPLE, (256, 192))
    fp32 = Enhancer("official", device="cpu", backend="onnx", precision="fp32")
    int8 = Enhancer("official", device="cpu", backend="onnx", precision="int8")
    assert "int8" in int8.description
    a, b = fp32.enhance(rgb).image, int8.enhance(rgb).image
    assert b.shape == a.shape and np.isfinite(b).all()
    assert 25 < psnr(a, b) < 80  # close, but not the fp32 graph under another name


def test_quantize_a_small_export_keeping_named_convolutions_in_fp32(tmp_path):
    import onnx
    import torch

    from lowlight_cli.inference.onnx_backend import OnnxBackend
    from lowlight_cli.models.agllnet import AgLLNet
    from lowlight_cli.models.config import AgLLNetConfig
    from lowlight_cli.weights.onnx_export import export_onnx
    from lowlight_cli.weights.onnx_quantize import (
        add_to_manifest, calibration_images, conv_names, quantize_stage, stage_feeds,
    )
    from lowlight_cli.weights.registry import graph_file

    torch.manual_seed(0)
    config = AgLLNetConfig.from_dict({"attention_channels": [4, 4], "fem_layers": 2, "fem_channels": 4,
                                      "branches": ["can", "resnet"], "branch_attention": [False, True],
                                      "can_channels": 4, "can_dilations": [1, 2]})
    folder = export_onnx(AgLLNet(config).eval(), tmp_path / "onnx")
    photos = sorted((SAMPLE.parent.parent / "synth").glob("*.jpg"))
    images = calibration_images(photos, 2, size=128)
    assert all(i.shape == (128, 128, 3) and 0 <= i.min() and i.max() <= 1 for i in images)
    assert np.abs(images[0] - images[1]).mean() > 0.01  # different crops, exposures and noise
    feeds = stage_feeds(folder, images)
    keep = [n for n in conv_names(folder / "local.onnx") if "fem.0/" in n]
    assert len(keep) == 1
    for stage in ("attention", "local"):
        quantize_stage(folder / graph_file(stage, "fp32"), folder / graph_file(stage, "int8"), feeds[stage],
                       keep if stage == "local" else ())
    add_to_manifest(folder, "int8", build={"keep_fp32": keep})
    graph = onnx.load(str(folder / "local.int8.onnx")).graph
    dequantized = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    convs = {n.name: n for n in graph.node if n.op_type == "Conv"}
    assert not set(convs[keep[0]].input) & dequantized  # kept in fp32
    assert sum(bool(set(c.input) & dequantized) for c in convs.values()) == len(convs) - 1  # the rest int8
    x = feeds["local"][0]
    out8 = OnnxBackend(resolve_onnx(folder), device="cpu", precision="int8").local(x["image"], x["attention"])
    out32 = OnnxBackend(resolve_onnx(folder), device="cpu").local(x["image"], x["attention"])
    assert out8.shape == out32.shape and 20 < psnr(np.clip(out8, 0, 1), np.clip(out32, 0, 1)) < 90


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
    assert out.std() < 0.25 * 4 * 0.01  # the x4 gain would make it 0.04; the denoised guide keeps it far below


def test_fast_mode_enhances_at_full_size_near_the_full_model():
    from lowlight_cli.inference.enhancer import Enhancer

    rgb = load_rgb(SAMPLE, (512, 384))
    full = Enhancer("official", device="cpu", backend="onnx").enhance(rgb)
    fast_enhancer = Enhancer("official", device="cpu", backend="onnx", quality="fast", fast_side=256)
    fast = fast_enhancer.enhance(rgb)
    assert fast.image.shape == rgb.shape and fast.attention.shape == rgb.shape[:2]
    assert "fast" in fast_enhancer.description
    assert psnr(fast.image, full.image) > 20 and fast.image.mean() > 1.5 * rgb.mean()
    small = load_rgb(SAMPLE, (200, 150))  # already below the fast side: the full model runs
    np.testing.assert_allclose(fast_enhancer.enhance(small).image,
                               Enhancer("official", device="cpu", backend="onnx").enhance(small).image, atol=1e-6)
    with pytest.raises(LowlightError, match="--quality"):
        Enhancer("official", device="cpu", backend="onnx", quality="draft")


# --- pipelined folders -------------------------------------------------------------------------------------


def test_folder_outcomes_keep_input_order_past_a_bad_file(tmp_path):
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.files import enhance_items
    from lowlight_cli.io.paths import collect_inputs
    from lowlight_cli.io.images import read_image, write_image

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
    outcomes = list(enhance_items(enhancer, collect_inputs([str(folder)], False), tmp_path / "out", "", "png"))
    assert [(o.source.name, o.status) for o in outcomes] == [
        ("a.jpg", "done"), ("b.jpg", "failed"), ("c.jpg", "done"), ("d.png", "done"), ("e.jpg", "skipped"),
    ]  # two inputs with one output name (d.jpg beside d.png) refuse the whole run: tests/test_batch_outputs.py
    assert "b.jpg" in outcomes[1].error
    assert read_image(tmp_path / "out" / "e.png")[0].shape == (8, 8, 3)
    assert read_image(tmp_path / "out" / "a.png")[0].shape == (96, 128, 3)
