"""What the wheel bundles: at most MAX_BUNDLED weight sets, exactly the registry's, each complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lowlight_cli.errors import WeightsError
from lowlight_cli.weights.registry import (
    BUNDLED,
    DEFAULT_WEIGHTS,
    MAX_BUNDLED,
    bundled_dir,
    resolve,
    resolve_onnx,
    sha256_of,
)

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_takes_the_weights_folder_and_it_holds_only_the_registry_s_sets():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"] == {
        "weights": "lowlight_cli/_bundled_weights"
    }
    assert MAX_BUNDLED == 3 and len(BUNDLED) <= MAX_BUNDLED
    assert {"official", DEFAULT_WEIGHTS} <= set(BUNDLED)
    on_disk = {p.name for p in (ROOT / "weights").iterdir()}
    assert on_disk == {w.folder for w in BUNDLED.values()}  # nothing unlisted rides along in the wheel


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_each_bundled_set_is_complete(name):
    folder = bundled_dir() / BUNDLED[name].folder
    assert {"LICENSE", "README.md", "config.json", "model.safetensors", "onnx"} <= {
        p.name for p in folder.iterdir()
    }
    assert set(resolve_onnx(name).graphs) == {"fp32", "fp16"}  # every listed graph's sha256 checked
    record = BUNDLED[name].sha256  # the set's one sha256 record: its config.json's
    assert sha256_of(folder / "model.safetensors") == record
    assert json.loads((folder / "onnx" / "manifest.json").read_text())["source_sha256"] == record


@pytest.mark.parametrize("name", ["agllnet-noise", "agllnet-look", "agllnet-look-3"])
def test_weights_that_are_not_bundled_are_one_line_naming_the_bundled_ones(name):
    with pytest.raises(WeightsError) as error:
        resolve(name)
    message = str(error.value)
    assert "\n" not in message and f"unknown weights {name!r}" in message
    assert all(bundled in message for bundled in BUNDLED)
