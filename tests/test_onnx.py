"""ONNX export and the onnxruntime backend: parity with PyTorch, providers, fp16 guard, torch-free start."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import onnxruntime as ort  # noqa: E402  (the test extra installs it: never skip)
import pytest
from conftest import SAMPLE, load_rgb

from lowlight_cli.errors import DeviceError, WeightsError
from lowlight_cli.inference.onnx_backend import CPU, CUDA, TENSORRT, OnnxBackend, choose_providers
from lowlight_cli.weights.registry import BUNDLED, ONNX_MANIFEST, resolve_onnx


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A randomly initialised network (not the official one) and its fp32 export."""
    import torch

    from lowlight_cli.models.agllnet import AgLLNet
    from lowlight_cli.weights.onnx_export import export_onnx

    torch.manual_seed(0)
    model = AgLLNet().eval()
    return model, export_onnx(model, tmp_path_factory.mktemp("onnx"))


def test_export_is_checked_dynamic_and_matches_torch(exported):
    from lowlight_cli.weights.onnx_export import compare_stages

    model, folder = exported
    graphs = resolve_onnx(folder)
    assert set(graphs.graphs) == {"fp32"}
    session = ort.InferenceSession(str(graphs.graphs["fp32"]["local"]), providers=[CPU])
    assert [d for d in session.get_inputs()[0].shape] == ["batch", 3, "height", "width"]
    diffs = compare_stages(model, folder, load_rgb(SAMPLE, (384, 256)))
    assert set(diffs) == {"attention/random", "local/random", "attention/image", "local/image"}
    assert max(diffs.values()) <= 1e-4, diffs


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_graphs_are_the_bundled_weights(name):
    from lowlight_cli.weights.model_io import load_model
    from lowlight_cli.weights.onnx_export import compare_stages

    graphs = resolve_onnx(name)  # also checks every graph's sha256 and the source weights' sha256
    manifest = json.loads((graphs.folder / ONNX_MANIFEST).read_text())
    assert manifest["source_sha256"] == BUNDLED[name].sha256
    diffs = compare_stages(load_model(name), graphs.folder, load_rgb(SAMPLE, (256, 128)))
    assert max(diffs.values()) <= 1e-4, diffs


def test_enhancer_onnx_matches_torch_through_the_shared_tiling(official_model):
    from lowlight_cli.inference.backends import TorchBackend
    from lowlight_cli.inference.enhancer import Enhancer

    rgb = load_rgb(SAMPLE, (134, 98))  # not multiples of anything: padding and cropping are exercised
    onnx = Enhancer("official", backend="onnx", device="cpu", tile=80)
    torch_ = Enhancer(backend=TorchBackend(official_model, device="cpu"), tile=80)
    assert onnx.tile_size(100, 136) == 80 and onnx.margin == torch_.margin
    a, b = onnx.enhance(rgb), torch_.enhance(rgb)
    assert a.image.shape == rgb.shape
    assert np.abs(a.image - b.image).max() <= 1e-4
    assert np.abs(a.attention - b.attention).max() <= 1e-4
    assert "cpu" in onnx.description and "float32" in onnx.description


def test_onnx_enhance_command_never_imports_torch(tmp_path):
    from PIL import Image

    src = tmp_path / "dark.png"
    Image.fromarray((load_rgb(SAMPLE, (96, 64)) * 255).astype(np.uint8)).save(src)
    script = textwrap.dedent(
        f"""
        import sys
        from lowlight_cli.cli.app import app
        app(["enhance", {str(src)!r}, "--backend", "onnx", "--device", "cpu", "-q"], standalone_mode=False)
        print("TORCH:", sorted(m for m in sys.modules if m.split(".")[0] == "torch"))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "TORCH: []" in done.stdout
    assert (tmp_path / "dark_enhanced.png").is_file()


def test_provider_lists_are_explicit():
    everything = [TENSORRT, CUDA, CPU]
    assert choose_providers("cpu", False, everything) == [(CPU, {})]
    assert choose_providers("auto", False, [CPU]) == [(CPU, {})]
    assert [p for p, _ in choose_providers("auto", False, everything)] == [CUDA, CPU]
    chain = choose_providers("cuda:1", True, everything, half=True)
    assert [p for p, _ in chain] == [TENSORRT, CUDA, CPU]
    assert chain[0][1]["trt_fp16_enable"] and chain[1][1] == {"device_id": 1}


def test_explicit_cuda_without_the_cuda_provider_fails_loudly():
    with pytest.raises(DeviceError, match="^device cuda: .*CUDAExecutionProvider") as caught:
        choose_providers("cuda", False, [CPU])
    assert caught.value.param == "device"
    with pytest.raises(DeviceError, match="^backend onnx-tensorrt: .*TensorrtExecutionProvider") as caught:
        choose_providers("auto", True, [CUDA, CPU])
    assert caught.value.param == "backend"
    if CUDA not in ort.get_available_providers():
        with pytest.raises(DeviceError):
            OnnxBackend(resolve_onnx("official"), device="cuda")


def test_half_is_refused_on_the_cpu():
    with pytest.raises(DeviceError, match="CUDA"):
        OnnxBackend(resolve_onnx("official"), device="cpu", half=True)


def test_fp16_nan_is_recomputed_in_fp32():
    backend = OnnxBackend(resolve_onnx("official"), device="cpu")
    backend.precision = "fp16"  # the CPU provider runs fp16 graphs too, so the guard is testable here
    black, saturated = np.zeros((1, 3, 32, 32), np.float32), np.ones((1, 1, 32, 32), np.float32)
    with pytest.warns(UserWarning, match="fp16"):  # fp16: 0 / (1.00001 - 1) = 0 / 0
        out = backend.local(black, saturated)
    assert backend.fp32_fallbacks == 1 and np.isfinite(out).all()


def test_damaged_or_missing_exports_are_refused(exported, tmp_path):
    import shutil

    copy = shutil.copytree(exported[1], tmp_path / "onnx")
    with open(copy / "local.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(WeightsError, match="sha256"):
        resolve_onnx(copy)
    with pytest.raises(
        WeightsError, match="no such file or folder"
    ):  # not "run lowlight export": nothing to export
        resolve_onnx(tmp_path / "nothing-here")
    (tmp_path / "no-graphs").mkdir()
    with pytest.raises(WeightsError, match="lowlight export"):
        resolve_onnx(tmp_path / "no-graphs")


@pytest.mark.cuda
def test_cuda_provider_with_io_binding_matches_cpu():
    if CUDA not in ort.get_available_providers():
        pytest.skip("onnxruntime has no CUDAExecutionProvider here (install the gpu extra)")
    graphs = resolve_onnx("official")
    x = load_rgb(SAMPLE, (256, 128)).transpose(2, 0, 1)[None].copy()
    cpu, gpu = OnnxBackend(graphs, device="cpu"), OnnxBackend(graphs, device="cuda")
    assert "cuda" in gpu.description
    assert np.abs(cpu.attention(x) - gpu.attention(x)).max() <= 1e-3
    a = cpu.attention(x)
    assert np.abs(cpu.local(x, a) - gpu.local(x, a)).max() <= 1e-3


def test_auto_backend_takes_onnx_only_where_it_has_graphs_and_cannot_lose_the_gpu(tmp_path):
    import onnxruntime

    from lowlight_cli.inference.backend_choice import auto_backend
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.weights.model_io import load_model, save_model

    assert auto_backend("agllnet-look-5", "cpu") == "onnx"
    assert Enhancer(device="cpu").description.startswith("onnxruntime")  # the default
    bare = save_model(load_model("official"), tmp_path / "no-graphs")  # weights without an onnx/ export
    assert auto_backend(str(bare), "cpu") == "torch"
    assert auto_backend("hf://someone/weights/model.safetensors", "cpu") == "torch"  # never fetches graphs
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        assert (
            auto_backend("agllnet-look-5", "cuda") == "torch"
        )  # torch may have the GPU; CPU onnx must not win


def test_export_writes_beside_the_weights_and_gives_the_verdict(tmp_path, monkeypatch):
    """`export_weights` (what `lowlight export` runs): the graphs go to the weights folder's onnx/ unless
    `out` is given (bundled weights need one), every precision is compared with PyTorch, and graphs further
    from it than TOLERANCE are a GraphMismatch carrying the report; the CLI prints the comparison before its
    error."""
    import torch
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app
    from lowlight_cli.errors import LowlightError
    from lowlight_cli.models.agllnet import AgLLNet
    from lowlight_cli.weights import onnx_export
    from lowlight_cli.weights.model_io import save_model
    from lowlight_cli.weights.onnx_export import GraphMismatch, export_folder, export_weights

    with pytest.raises(LowlightError, match="^out is needed for bundled weights") as caught:
        export_folder("official")
    assert caught.value.param == "out"
    torch.manual_seed(0)
    weights = save_model(AgLLNet().eval(), tmp_path / "mine")
    report = export_weights(str(weights))
    assert report.out == weights / "onnx" and report.within_tolerance and report.opset == 17
    [fp32] = report.comparisons
    assert fp32.precision == "fp32" and max(fp32.diffs.values()) <= onnx_export.TOLERANCE["fp32"]
    assert resolve_onnx(weights).graphs.keys() == {"fp32"}
    monkeypatch.setitem(onnx_export.TOLERANCE, "fp32", 0.0)  # no export is that exact
    with pytest.raises(GraphMismatch) as caught:
        export_weights(str(weights), tmp_path / "strict")
    assert caught.value.report.out == tmp_path / "strict" and not caught.value.report.within_tolerance
    result = CliRunner().invoke(app, ["export", "-w", str(weights), "-o", str(tmp_path / "cli")])
    assert result.exit_code == 1 and "fp32 max |torch - onnxruntime|: attention/random" in result.output
    assert "error: the exported graphs differ from PyTorch by more than" in result.output
