"""The PyTorch port with imported weights against onnxruntime running the authors' graph."""

from __future__ import annotations

import pytest
from conftest import OFFICIAL_ONNX, SAMPLE, load_rgb

from lowlight_cli.weights.model_io import load_model, sha256_of
from lowlight_cli.weights.onnx_import import compare_with_onnx, import_official_onnx
from lowlight_cli.weights.registry import BUNDLED, resolve


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


def _official_graph_at(side: int, path) -> None:
    """The released graph re-sized to side x side: its seven nearest-neighbour Resize nodes have fixed
    sizes."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(OFFICIAL_ONNX))
    k = side // 256
    sizes = {n.input[3] for n in graph.graph.node if n.op_type == "Resize"}
    for init in graph.graph.initializer:
        if init.name in sizes:
            value = numpy_helper.to_array(init).copy()
            value[2:] *= k
            init.CopyFrom(numpy_helper.from_array(value, init.name))
    for value_info in (*graph.graph.input, *graph.graph.output):
        for dim in value_info.type.tensor_type.shape.dim:
            if dim.dim_value == 256:
                dim.dim_value = side
    del graph.graph.value_info[:]
    onnx.save(graph, str(path))


def test_port_matches_the_official_graph_beyond_its_export_size(tmp_path):
    """At 512x512 (four 128-px attention cells a side) the port still computes the authors' graph, so the
    faint steps the attention map shows on 128-px boundaries are the released model's, not the port's."""
    graph = tmp_path / "official_512.onnx"
    _official_graph_at(512, graph)
    diffs = compare_with_onnx(load_model("official"), graph, load_rgb(SAMPLE, (512, 512)))
    assert max(diffs.values()) <= 1e-4, diffs
