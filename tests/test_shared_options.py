"""The inference options shared by `enhance`, `video`, `serve` and `eval`: same names, same values, same help,
each wired to the Enhancer the command builds; `--out/-o` (alias `--output`) wherever results are written;
`--workers 0` means "in this process" (synth) and is refused by serve."""

from __future__ import annotations

import inspect
from typing import get_args

import numpy as np
import pytest
import typer.main
from PIL import Image
from typer.testing import CliRunner

from lowlight_cli.cli.app import app
from lowlight_cli.errors import LowlightError
from lowlight_cli.inference import BACKEND_CHOICES
from lowlight_cli.inference.precision import PRECISIONS

INFERENCE = {"--weights", "-w", "--device", "--backend", "--precision", "--tile", "--gate", "--no-gate"}
FAST = {"--fast"}
OUT = {"--out", "--output", "-o"}
COMMANDS = {
    "enhance": INFERENCE | FAST | OUT,
    "video": INFERENCE | FAST | OUT,
    "serve": INFERENCE | FAST,
    "eval": INFERENCE | OUT,
}
RUN = [
    "--weights",
    "official",
    "--backend",
    "onnx",
    "--device",
    "cpu",
    "--precision",
    "fp32",
    "--tile",
    "0",
    "--no-gate",
]
"""The shared options as every command below is given them (official: the cheapest bundled network)."""


def params(command: str) -> dict[str, object]:
    """Option name -> click parameter of one command."""
    cli = typer.main.get_command(app).commands[command]
    return {name: p for p in cli.params for name in (*p.opts, *p.secondary_opts)}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_takes_the_shared_options(command):
    names = params(command)
    assert COMMANDS[command] <= set(names), COMMANDS[command] - set(names)
    assert not (FAST - COMMANDS[command]) & set(names)  # eval has no --fast
    # the inference layer's names, as one definition
    assert get_args(names["--precision"].type_descriptor.annotation) == PRECISIONS == ("fp32", "fp16", "auto")
    assert get_args(names["--backend"].type_descriptor.annotation) == BACKEND_CHOICES
    assert BACKEND_CHOICES == ("auto", "torch", "onnx", "onnx-tensorrt")
    help_text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
    assert all(name in help_text for name in COMMANDS[command] if name.startswith("--"))


def test_the_shared_options_are_one_definition():
    """Same help, default and type on every command that has them
    (eval's --weights is repeatable, its own)."""
    tables = {c: params(c) for c in COMMANDS}
    for name in sorted((INFERENCE | FAST) - {"--weights", "-w"}):
        found = [
            (tables[c][name].help, tables[c][name].default, tables[c][name].type_descriptor.annotation)
            for c in COMMANDS
            if name in tables[c]
        ]
        assert len(set(found)) == 1, (name, found)
    for c in ("enhance", "video", "eval"):
        assert set(tables[c]["--out"].opts) == OUT, c  # one option, three names


def _tiny(path, size=(48, 32)):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(5, 60, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


@pytest.mark.parametrize("name", ["--out", "-o", "--output"])
def test_enhance_writes_where_out_or_its_alias_says(tmp_path, name):
    src = _tiny(tmp_path / "tiny.png")
    result = CliRunner().invoke(app, ["enhance", str(src), name, str(tmp_path / "out"), *RUN, "--fast", "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "tiny.png").is_file()


def test_eval_takes_the_shared_options(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    _tiny(photos / "a.png")
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--data",
            str(photos),
            *RUN,
            "--self-target",
            "--no-sheet",
            "--output",
            str(tmp_path / "report"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report" / "summary.csv").is_file()


def test_eval_builds_its_enhancers_with_them():
    from lowlight_cli.evaluation.evaluate import make_methods

    def enhancer_of(method):
        return inspect.getclosurevars(method).nonlocals["enhancer"]

    [method] = make_methods(["agllnet-look-5"], [], "onnx", "cpu", "fp32", 0, False).values()
    enhancer = enhancer_of(method)
    assert enhancer.tile == 0 and enhancer.gate is False and enhancer.backend.precision == "fp32"
    [default] = make_methods(["agllnet-look-5"], [], "onnx", "cpu").values()  # the old call still works
    assert enhancer_of(default).gate is True and enhancer_of(default).tile is None


def test_video_takes_the_output_as_argument_or_out(tmp_path):
    av = pytest.importorskip("av")
    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 10 + 5 * i, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    runner = CliRunner()
    for args, out in [(["-o", str(tmp_path / "a.mp4")], "a.mp4"), ([str(tmp_path / "b.mp4")], "b.mp4")]:
        result = runner.invoke(app, ["video", str(clip), *args, *RUN, "--fast", "-q"])
        assert result.exit_code == 0, result.output
        assert (tmp_path / out).stat().st_size > 0
    for args in ([], [str(tmp_path / "c.mp4"), "--out", str(tmp_path / "d.mp4")]):
        result = runner.invoke(app, ["video", str(clip), *args, *RUN])
        assert result.exit_code == 2 and "OUTPUT" in result.output, (
            result.output
        )  # a usage error, nothing run
    assert not (tmp_path / "c.mp4").exists() and not (tmp_path / "d.mp4").exists()


def test_serve_builds_its_enhancer_with_them_and_reports_them(tmp_path, monkeypatch):
    """`lowlight serve` with the shared options: the engine's Enhancer has them, /api/v1/models reports them,
    and a photo comes back as `lowlight enhance` with the same options gives it."""
    pytest.importorskip("fastapi")
    import io

    import uvicorn
    from _serve import free_port, photo
    from fastapi.testclient import TestClient

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    shared = [
        "--weights",
        "agllnet-look-5",
        "--backend",
        "onnx",
        "--device",
        "cpu",
        "--precision",
        "fp32",
        "--tile",
        "0",
        "--fast",
        "--no-gate",
    ]
    result = CliRunner().invoke(app, ["serve", "--port", str(free_port()), *shared])
    assert result.exit_code == 0, result.output
    with TestClient(started["app"], base_url="http://127.0.0.1:8000") as api:  # the lifespan loads the model
        loaded = api.get("/api/v1/models").json()["loaded"]
        assert (loaded["weights"], loaded["precision"], loaded["fast"], loaded["gate"]) == (
            "agllnet-look-5",
            "fp32",
            True,
            False,
        )
        engine = api.app.state.store.engine
        enhancer = engine.enhancer
        assert enhancer.fast_side and enhancer.gate is False and enhancer.tile == 0
        assert enhancer.backend.precision == "fp32" and "onnxruntime" in enhancer.backend.description
        src = photo(tmp_path / "night.jpg", width=400, orientation=1)  # above the fast side: fast mode acts
        served = api.post("/api/v1/enhance", files={"file": ("night.jpg", src.read_bytes(), "image/jpeg")})
        assert served.status_code == 200, served.text
    cli = CliRunner().invoke(app, ["enhance", str(src), "-o", str(tmp_path / "cli"), *shared, "-q"])
    assert cli.exit_code == 0, cli.output

    def pixels(data: bytes) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.int16)

    assert np.abs(pixels(served.content) - pixels((tmp_path / "cli" / "night.jpg").read_bytes())).max() <= 1


def test_workers_zero_means_in_this_process_and_serve_refuses_it():
    import os

    from lowlight_cli.serve.settings import ServeSettings

    with pytest.raises(LowlightError, match="in this process") as error:
        ServeSettings(workers=0).checked()
    assert "\n" not in str(error.value)
    assert ServeSettings().checked().worker_count("cpu") == max(1, min(2, os.cpu_count() or 1))
    assert ServeSettings(workers=3).checked().worker_count("cpu") == 3
    assert ServeSettings(workers=3).checked().worker_count("cuda") == 1
    for command in ("synth", "serve"):
        text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "300"}).output
        assert "0 = in this process" in text, command
    result = CliRunner().invoke(app, ["serve", "--workers", "0"])
    assert result.exit_code == 1 and "in this process" in result.output
