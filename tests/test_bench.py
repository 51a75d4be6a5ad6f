"""`lowlight bench` on tiny inputs: the numbers are measured, isolated per case, and reported as Markdown
and JSON."""

from __future__ import annotations

import json

import pytest

from lowlight_cli.speed.cases import Case, image_size, run_case
from lowlight_cli.speed.report import markdown


def test_standard_sizes_and_others():
    assert image_size(2.0) == (1920, 1080) and image_size(24.0) == (6000, 4000)
    w, h = image_size(0.06)
    assert abs(w * h - 60_000) < 400 and abs(w / h - 1.5) < 0.02


def test_a_case_reports_throughput_tiles_and_memory():
    result = run_case(Case("onnx", "fp32", 160, 0.06), "official", "cpu", repeats=1)
    assert (result.width, result.height) == image_size(0.06)
    assert result.tiles == 2 * 2  # 200 rows and 300 columns in cores of at most 160 px
    assert result.mp_per_s == pytest.approx(0.06 / result.seconds, rel=0.02)
    assert 50 < result.peak_rss_mib < 8000 and result.peak_cuda_mib is None
    assert "onnxruntime" in result.description
    assert "| onnx | fp32 | full | 160 | 300x200 (0.06 MP) | 4 |" in markdown([result], [])


def test_bench_command_writes_markdown_and_json(tmp_path):
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app

    out = tmp_path / "bench"
    result = CliRunner().invoke(
        app, ["bench", "--backends", "onnx", "--sizes", "0.02", "--device", "cpu", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "bench.json").read_text())
    assert data["hardware"] and data["date"] and data["command"].startswith("lowlight bench")
    [row] = data["images"]
    assert row["case"]["backend"] == "onnx" and row["mp_per_s"] > 0 and row["peak_rss_mib"] > 0
    assert "| onnx | fp32 | full | auto |" in (out / "bench.md").read_text()


@pytest.mark.slow
def test_ratios_are_measured_in_one_run_against_the_authors_graph(tmp_path):
    """fast/full, folder/model-only and ours/authors' graph (fp16/fp32 on CUDA only), each from a real timed
    run."""
    from conftest import OFFICIAL_ONNX

    from lowlight_cli.speed.ratios import ratios, ratios_markdown

    result = ratios("official", "cpu", 0.1, 1, tmp_path, OFFICIAL_ONNX, folder_images=2, log=lambda _: None)
    names = [r["ratio"] for r in result["rows"]]
    assert names == [
        "fast/full (speed)",
        "folder/model-only (throughput)",
        "ours/authors' graph (speed)",
        "authors' graph/ours (peak memory)",
    ]
    assert all(r["value"] > 0 for r in result["rows"])
    assert set(result["cases"]) == {"fp32", "fast"}  # no other precision on a CPU
    assert result["cases"]["fast"]["case"]["quality"] == "fast"
    assert (
        result["authors"]["size"] == "512x384" and result["folder"]["images"] == 2
    )  # 387x258 padded to 128s
    assert result["folder"]["written"] == 2  # the folder run wrote every image ...
    assert not list(tmp_path.glob(".folder-bench-*"))  # ... in a scratch folder that is gone afterwards
    assert "| fast/full (speed) |" in ratios_markdown(result)


@pytest.mark.slow
def test_video_fps_includes_decode_and_encode(tmp_path):
    import av
    import numpy as np

    from lowlight_cli.speed.cases import video_fps

    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((96, 128, 3), 10 * i, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    report = video_fps(clip, "onnx", "fp32", "official", "cpu", 10.0, tmp_path)
    assert report["frames"] == 5 and report["fps"] > 0 and report["size"] == "128x96"
    assert not (tmp_path / "bench_onnx_fp32.mp4").exists()


def test_the_authors_graph_runs_at_free_sizes():
    """Its fixed 256-grid Resize sizes are replaced by x2 scales, so it runs (and is timed) at other sizes."""
    from conftest import OFFICIAL_ONNX

    from lowlight_cli.speed.ratios import authors_graph_case

    result = authors_graph_case(OFFICIAL_ONNX, 0.02, 1)
    assert result["size"] == "256x128" and result["seconds"] > 0  # 173x115 padded to multiples of 128


def test_precisions_are_fp32_and_fp16(tmp_path):
    from lowlight_cli.errors import LowlightError
    from lowlight_cli.speed.plan import plan

    with pytest.raises(LowlightError, match="int8 is not one of fp32, fp16") as caught:
        plan("onnx", "fp32,int8", device="cpu", out=tmp_path / "b")
    assert caught.value.param == "precisions"


def test_a_plan_checks_every_option_and_drops_fp16_on_a_cpu(tmp_path):
    """The Python API makes the command's checks: lists as text or sequences, fp16 left out on a CPU (with a
    note), the device type's default sizes, and a bad value is an error naming its parameter."""
    from lowlight_cli.errors import LowlightError
    from lowlight_cli.speed.plan import plan

    checked = plan(["onnx"], "fp32,fp16", [None, 512], device="cpu", out=tmp_path / "b")
    assert (
        checked.device_type == "cpu" and checked.precisions == ("fp32",) and checked.sizes == (0.5, 2.0, 8.0)
    )
    assert checked.notes and "fp16 skipped" in checked.notes[0]
    assert [(c.tile, c.megapixels) for c in checked.cases][:2] == [(None, 0.5), (512, 0.5)]
    assert len(checked.cases) == 6 and not (tmp_path / "b").exists()
    for kwargs, param in [
        (dict(sizes=[0]), "sizes"),
        (dict(tiles="big"), "tiles"),
        (dict(backends="tensorflow"), "backends"),
        (dict(precisions="fp16"), "precisions"),
        (dict(repeats=0), "repeats"),
    ]:
        with pytest.raises(LowlightError) as caught:
            plan(**{"backends": "onnx", "device": "cpu", "out": tmp_path / "b", **kwargs})
        assert caught.value.param == param and str(caught.value).startswith(param), str(caught.value)
