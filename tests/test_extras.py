"""Every command and backend whose optional extra is missing exits with one line naming the extra.

The modules of an extra are hidden by setting them to None in sys.modules (find_spec then reports them
missing and `import` fails), so this runs in the full test environment; CI also runs the real photo-only
install (.ci/run).
"""

from __future__ import annotations

import sys

import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from lowlight_cli.cli.app import app
from lowlight_cli.extras import EXTRAS, MissingExtraError, missing

CPU_HINT = "pip install 'lowlight[cpu]'"

CASES = [
    # (command line, hidden modules, text the one line must hold)
    (["enhance", str(SAMPLE), "--backend", "torch"], ["torch"], "[torch] extra"),
    (["enhance", str(SAMPLE), "--backend", "onnx"], ["onnxruntime"], CPU_HINT),
    (["enhance", str(SAMPLE), "--backend", "onnx-tensorrt"], ["onnxruntime"], CPU_HINT),
    (["enhance", str(SAMPLE)], ["onnxruntime", "torch"], "no inference backend is installed: " + CPU_HINT),
    (["video", "in.mp4", "out.mp4"], ["av"], "[video] extra"),
    (["eval", "--data", "lol", "--baseline", "gamma"], ["torchmetrics"], "[eval] extra"),
    (["tune-gate", "-w", "official", "--photos", "p", "--pairs", "q"], ["torchmetrics"], "[eval] extra"),
    (["train"], ["tensorboard"], "[train] extra"),
    (["synth", "--src", "photos"], ["skimage"], "[synth] extra"),
    (["export"], ["onnx"], "[export] extra"),
    (["export"], ["onnxruntime"], CPU_HINT),
    (["bench", "--backends", "torch"], ["torch"], "[torch] extra"),
    (["bench", "--backends", "onnx"], ["onnxruntime"], CPU_HINT),
    (["bench", "--backends", "onnx", "--video", "clip.mp4"], ["av"], "[video] extra"),
    (["weights", "verify"], ["torch"], "[torch] extra"),
    (["weights", "pull", "hf://me/agllnet/model.safetensors"], ["safetensors"], "[torch] extra"),
    (["weights", "push", "official", "me/agllnet"], ["torch"], "[torch] extra"),
    (["weights", "import-onnx", "x.onnx"], ["onnx"], "[export] extra"),
    (["weights", "import-onnx", "x.onnx"], ["onnxruntime"], CPU_HINT),
    (["serve"], ["uvicorn"], "[serve] extra"),
]


def hide(monkeypatch, modules):
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)
    assert all(m in missing(e) for e in EXTRAS for m in modules if m in EXTRAS[e])


@pytest.mark.parametrize(
    ("args", "hidden", "expected"), CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else None
)
def test_missing_extra_is_one_line_naming_it(monkeypatch, tmp_path, args, hidden, expected):
    monkeypatch.chdir(tmp_path)
    hide(monkeypatch, hidden)
    result = CliRunner().invoke(app, args)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.output
    assert "Traceback" not in result.output and not list(tmp_path.iterdir())  # nothing written


def test_every_command_is_covered():
    commands = {c.name for c in app.registered_commands} | {"weights"}
    covered = {args[0] for args, _, _ in CASES}
    assert commands - covered == {"synth-merge"}  # needs nothing beyond the core


def test_the_python_api_names_the_extra_too(monkeypatch):
    from lowlight_cli import Enhancer

    hide(monkeypatch, ["onnxruntime"])
    with pytest.raises(MissingExtraError, match=r"lowlight\[cpu\]"):
        Enhancer(backend="onnx")


def test_extras_table_matches_pyproject():
    """Each extra's modules are what pyproject.toml installs for it (so the hints name the right extra)."""
    import re
    from pathlib import Path

    import tomllib

    extras = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    module_of = {
        "torch": "torch",
        "safetensors": "safetensors",
        "av": "av",
        "onnx": "onnx",
        "scikit-image": "skimage",
        "matplotlib": "matplotlib",
        "torchmetrics": "torchmetrics",
        "tensorboard": "tensorboard",
        "pyyaml": "yaml",
        "ray": "ray",
        "onnxruntime": "onnxruntime",
        "onnxruntime-gpu": "onnxruntime",
        "fastapi": "fastapi",
        "uvicorn": "uvicorn",
        "python-multipart": "multipart",
        "pydantic": "pydantic",
        "scipy": "scipy",
    }

    def modules(extra: str) -> set[str]:
        found = set()
        for spec in extras[extra]:
            name = re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]
            if name == "lowlight":
                for inner in re.search(r"\[(.*)\]", spec).group(1).split(","):
                    found |= modules(inner.strip())
            else:
                found.add(module_of[name])
        return found

    for extra, mods in EXTRAS.items():
        assert modules("cpu" if extra == "onnxruntime" else extra) == set(mods), extra
    assert modules("gpu") == modules("cpu") == {"onnxruntime"}


# --- the photo-only install (no torch): the auto backend's errors name their real cause ---------------------
# Only weights that truly have no ONNX graphs may point to the [torch] extra (issue 24, item 5).

TORCH_HINT = "lowlight[torch]"


def enhance_without_torch(monkeypatch, tmp_path, *args: str) -> str:
    """`lowlight enhance SAMPLE ARGS` with torch hidden: the one error line (exit 1, nothing written)."""
    monkeypatch.chdir(tmp_path)
    hide(monkeypatch, ["torch", "safetensors"])
    result = CliRunner().invoke(app, ["enhance", str(SAMPLE), "-o", str(tmp_path / "out"), *args])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert not (tmp_path / "out").exists()
    return lines[0]


def test_a_weights_typo_is_named_not_the_torch_extra(monkeypatch, tmp_path):
    line = enhance_without_torch(monkeypatch, tmp_path, "--weights", "agllnet-lok-5")
    assert (
        "unknown weights 'agllnet-lok-5' (bundled: official, " in line
        and "did you mean 'agllnet-look-5'?" in line
    )
    assert TORCH_HINT not in line


def test_the_python_api_names_unknown_weights(monkeypatch):
    from lowlight_cli import Enhancer
    from lowlight_cli.errors import WeightsError

    hide(monkeypatch, ["torch", "safetensors"])
    with pytest.raises(WeightsError, match=r"^unknown weights 'nonexistent' \(bundled: official, ") as caught:
        Enhancer("nonexistent")
    assert TORCH_HINT not in str(caught.value) and not isinstance(caught.value, MissingExtraError)
    with pytest.raises(WeightsError, match=r"no such file or folder") as caught:
        Enhancer("/nowhere/my-weights")
    assert TORCH_HINT not in str(caught.value)


def test_device_cuda_without_cuda_is_named_not_the_torch_extra(monkeypatch, tmp_path):
    import onnxruntime

    import lowlight_cli.inference.backend_choice as backend_choice

    # a machine without an NVIDIA GPU
    monkeypatch.setattr(backend_choice, "NVIDIA_DRIVER", str(tmp_path / "no-driver"))
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    line = enhance_without_torch(monkeypatch, tmp_path, "--device", "cuda")
    assert "--device cuda: CUDA is not usable here (no NVIDIA driver" in line and "use device cpu" in line
    assert TORCH_HINT not in line


def _weights_copy(tmp_path, graphs: bool = True):
    import shutil

    from lowlight_cli.weights.registry import bundled_dir

    folder = shutil.copytree(bundled_dir() / "official", tmp_path / "mine")
    if not graphs:
        shutil.rmtree(folder / "onnx")
    return folder


def test_damaged_onnx_graphs_are_named_not_the_torch_extra(monkeypatch, tmp_path):
    import hashlib
    import json

    folder = _weights_copy(tmp_path)
    graph = folder / "onnx" / "local.onnx"
    graph.write_bytes(graph.read_bytes()[:-64] + bytes(64))  # a damaged file: its sha256 no longer matches
    line = enhance_without_torch(monkeypatch, tmp_path, "--weights", str(folder))
    assert (
        f"{graph}: sha256 does not match the manifest (damaged or edited)" in line and TORCH_HINT not in line
    )

    # a graph onnxruntime cannot parse although the manifest agrees with it: one line, exit 1, not "a bug"
    manifest = json.loads((folder / "onnx" / "manifest.json").read_text())
    for stages in manifest["graphs"].values():
        for entry in stages.values():
            path = folder / "onnx" / entry["file"]
            path.write_bytes(path.read_bytes()[:2000])
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "onnx" / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.undo()
    for backend in ("auto", "onnx"):
        line = enhance_without_torch(monkeypatch, tmp_path, "--weights", str(folder), "--backend", backend)
        assert "onnxruntime cannot load this ONNX graph (InvalidProtobuf" in line and TORCH_HINT not in line


def test_weights_without_onnx_graphs_do_point_to_the_torch_extra(monkeypatch, tmp_path):
    folder = _weights_copy(tmp_path, graphs=False)
    line = enhance_without_torch(monkeypatch, tmp_path, "--weights", str(folder))
    assert line == (
        f"error: weights '{folder}' have no ONNX graphs (no onnx/manifest.json beside them), so they run on "
        "PyTorch, which is not installed: pip install 'lowlight[torch]' (install the torch build for your "
        "machine first, see the README)"
    )


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    import huggingface_hub.constants as hub_constants
    from test_hub import FakeHub

    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    server = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    yield server
    server.stop()


def test_hub_weights_without_torch_name_the_real_cause(monkeypatch, tmp_path, fake_hub):
    from lowlight_cli.weights.registry import resolve

    found = resolve("official")
    files = {
        "config.json": found.config_file.read_bytes(),
        "model.safetensors": found.weights_file.read_bytes(),
    }
    fake_hub.commit("me/no-graphs", files)
    fake_hub.commit(
        "me/graphs",
        {**files, "onnx/manifest.json": (found.weights_file.parent / "onnx" / "manifest.json").read_bytes()},
    )

    line = enhance_without_torch(monkeypatch, tmp_path, "-w", "hf://me/no-graphs/model.safetensors")
    assert (
        "have no ONNX graphs (no onnx/manifest.json beside them on the Hub)" in line
    )  # truly none: the extra
    assert "so they run on PyTorch, which is not installed: pip install 'lowlight[torch]'" in line
    line = enhance_without_torch(monkeypatch, tmp_path, "-w", "hf://me/graphs/model.safetensors")
    assert "choose the onnx backend to run their ONNX graphs" in line
    line = enhance_without_torch(monkeypatch, tmp_path, "-w", "hf://me/nothing/model.safetensors")
    assert "no such repository" in line and TORCH_HINT not in line

    from _serve import free_port

    monkeypatch.setenv(
        "HF_ENDPOINT", f"http://127.0.0.1:{free_port()}"
    )  # unreachable: a closed port, refused
    line = enhance_without_torch(monkeypatch, tmp_path, "-w", "hf://me/elsewhere/model.safetensors")
    assert "not in the local cache and the Hub cannot be reached" in line and TORCH_HINT not in line
