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
    (["enhance", str(SAMPLE), "-w", "hf://me/agllnet/model.safetensors"], ["torch"], "pip install 'lowlight[torch]'"),
    (["video", "in.mp4", "out.mp4"], ["av"], "[video] extra"),
    (["eval", "--data", "lol", "--baseline", "gamma"], ["torchmetrics"], "[eval] extra"),
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


@pytest.mark.parametrize(("args", "hidden", "expected"), CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
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
    import tomllib
    from pathlib import Path

    extras = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    module_of = {"torch": "torch", "safetensors": "safetensors", "av": "av", "onnx": "onnx", "scikit-image": "skimage",
                 "matplotlib": "matplotlib", "torchmetrics": "torchmetrics", "tensorboard": "tensorboard",
                 "pyyaml": "yaml", "ray": "ray", "onnxruntime": "onnxruntime", "onnxruntime-gpu": "onnxruntime",
                 "fastapi": "fastapi", "uvicorn": "uvicorn", "python-multipart": "multipart", "pydantic": "pydantic"}

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
