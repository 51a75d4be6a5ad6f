"""The PyTorch port with imported weights against onnxruntime running the authors' graph."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import OFFICIAL_ONNX, SAMPLE, load_rgb

from lowlight_cli.weights.onnx_import import compare_with_onnx, import_official_onnx
from lowlight_cli.weights.registry import BUNDLED, resolve
from lowlight_cli.weights.store import load_model, sha256_of

pytest.importorskip("onnxruntime")


def test_imported_model_matches_the_official_graph_on_the_sample():
    model = import_official_onnx(OFFICIAL_ONNX)
    diffs = compare_with_onnx(model, OFFICIAL_ONNX, load_rgb(SAMPLE, (256, 256)))
    assert set(diffs) == {"enhanced", "attention", "reinforced", "brightened"}
    assert max(diffs.values()) <= 1e-4, diffs


def test_bundled_official_weights_are_the_imported_ones():
    found = resolve("official")
    assert sha256_of(found.weights_file) == BUNDLED["official"].sha256
    bundled = load_model("official")
    diffs = compare_with_onnx(bundled, OFFICIAL_ONNX, load_rgb(SAMPLE, (256, 256)))
    assert max(diffs.values()) <= 1e-4, diffs


def test_not_an_onnx_file_is_named(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a protobuf at all" * 10)
    from lowlight_cli.errors import FileError

    with pytest.raises(FileError, match="model.onnx"):
        import_official_onnx(bad)
