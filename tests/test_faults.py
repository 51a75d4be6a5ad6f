"""Nothing lost, no tracebacks (issue 12): filesystem faults, bad settings, interrupted runs, offline Hub.

Each test runs the failing command for real and checks both the one-line message and what is on disk
afterwards (finished outputs kept, no partial file, no folder left behind, bundled weights untouched).
The read-only cases use a real read-only file system when they can: a chmod 0555 folder for a normal
user, or a read-only tmpfs mount when running as root (root ignores permission bits, so a 0555 folder is
writable for it); a full disk is simulated at the atomic-write layer (ENOSPC from the write), since a
small file system needs a mount.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lowlight_cli.cli.app import app

DATA = Path(__file__).parent / "data"
PHOTOS = sorted((DATA / "synth").glob("*.jpg"))
runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, env: dict | None = None):
    result = runner.invoke(app, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def errors(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error:")]


def small_photos(folder: Path, copies: int = 1, size: tuple[int, int] = (96, 64)) -> Path:
    """The real test photos, scaled down so that the model runs in a blink."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(copies):
        for p in PHOTOS:
            name = p.name if copies == 1 else f"{p.stem}-{i}{p.suffix}"
            Image.open(p).convert("RGB").resize(size).save(folder / name, quality=90)
    return folder


@pytest.fixture
def photos(tmp_path) -> Path:
    return small_photos(tmp_path / "in")


def _mount(target: Path, options: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True
        ).returncode
        == 0
    )


@contextmanager
def read_only_folder(tmp_path: Path):
    """A folder nobody can write: chmod 0555 for a normal user; as root a read-only tmpfs (root ignores
    modes). Root without mount rights gets the same error injected where files are created: still not a
    skip."""
    ro = tmp_path / "RO"
    ro.mkdir()
    if os.geteuid() != 0:
        ro.chmod(0o555)
        try:
            yield ro
        finally:
            ro.chmod(0o755)
    elif _mount(ro, "ro,size=64k"):
        try:
            yield ro
        finally:
            subprocess.run(["umount", str(ro)], check=True)
    else:
        real_mkstemp = __import__("tempfile").mkstemp

        def refuse(*args, dir=None, **kwargs):
            if dir is not None and Path(dir).resolve().is_relative_to(ro.resolve()):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
            return real_mkstemp(*args, dir=dir, **kwargs)

        mp = pytest.MonkeyPatch()
        mp.setattr("tempfile.mkstemp", refuse)
        mp.setattr("pathlib.Path.mkdir", _refusing_mkdir(ro, Path.mkdir))
        try:
            yield ro
        finally:
            mp.undo()


def _refusing_mkdir(ro: Path, real):
    def mkdir(self, *args, **kwargs):
        if Path(self).resolve().is_relative_to(ro.resolve()) and not Path(self).exists():
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real(self, *args, **kwargs)

    return mkdir


# --- write errors -------------------------------------------------------------------------------------------


def test_enhance_into_a_read_only_folder_is_one_line_before_any_work(photos, tmp_path):
    with read_only_folder(tmp_path) as ro:
        result = cli("enhance", photos, "-o", ro / "sub", "-q")
        assert result.exit_code == 1
        assert (
            len(errors(result)) == 1 and "cannot write" in result.output and str(ro / "sub") in result.output
        )
        assert "enhanced" not in result.output  # refused before the model ran: no batch summary
        assert not (ro / "sub").exists()


def test_enhance_below_a_file_names_the_file(photos):
    blocker = photos / PHOTOS[0].name
    result = cli("enhance", photos, "-o", blocker / "x", "-q")
    assert result.exit_code == 1 and len(errors(result)) == 1
    assert f"{blocker} is a file, not a folder" in result.output
    assert sorted(p.name for p in photos.iterdir()) == sorted(p.name for p in PHOTOS)


def test_full_disk_stops_the_batch_keeps_finished_outputs_and_leaves_no_partial_file(
    photos, tmp_path, monkeypatch
):
    """ENOSPC injected into the second write (what Pillow raises on a full disk),
    at the atomic-write layer."""
    from PIL import Image

    out = tmp_path / "out"
    real_save = Image.Image.save
    calls = []

    def save(self, fp, *args, **kwargs):
        calls.append(fp)
        if len(calls) == 2:
            Path(fp).write_bytes(b"\xff\xd8 half a jpeg")  # some bytes reached the disk before it filled up
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save)
    result = cli("enhance", photos, "-o", out, "-q")
    assert result.exit_code == 1
    assert "no space left on the device; stopped: the disk is full" in result.output
    assert "1 enhanced, 0 skipped, 1 failed" in result.output  # the third file was not attempted
    assert [p.name for p in out.iterdir()] == [PHOTOS[0].name]  # finished output kept, nothing partial
    assert Image.open(out / PHOTOS[0].name).size == (96, 64)  # complete and decodable


def test_full_disk_from_a_library_that_hides_the_errno_is_still_reported_as_full(tmp_path, monkeypatch):
    from lowlight_cli.errors import DiskFullError
    from lowlight_cli.io import atomic

    monkeypatch.setattr(atomic, "_disk_full", lambda folder: True)
    with pytest.raises(DiskFullError, match="no space left"):
        with atomic.atomic_path(tmp_path / "ckpt.pt") as tmp:
            tmp.write_bytes(b"x")
            raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")
    assert list(tmp_path.iterdir()) == []


def test_eval_synth_and_train_check_their_output_folder_first(photos, tmp_path):
    with read_only_folder(tmp_path) as ro:
        for args in (
            ("eval", "--data", photos, "--baseline", "gamma", "-o", ro / "rep", "-q"),
            ("synth", "--src", photos, "--out", ro / "pairs", "--workers", "0", "-q"),
            ("train", "--data", photos, "--out", ro / "run", "--set", "data_mode=onthefly", "-q"),
        ):
            result = cli(*args)
            assert result.exit_code == 1 and len(errors(result)) == 1, (args, result.output)
            assert "cannot write" in result.output and str(ro) in result.output, (args, result.output)
        assert list(ro.iterdir()) == []


def test_output_folder_inside_the_input_tree_is_never_an_input(photos):
    for _ in range(3):
        result = cli("enhance", photos, "-r", "-o", photos / "out", "-q")
        assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(photos / "out").as_posix() for p in (photos / "out").rglob("*")) == sorted(
        p.name for p in PHOTOS
    )


# --- interrupted runs ---------------------------------------------------------------------------------------


def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    src = small_photos(tmp_path / "in", copies=10, size=(320, 240))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lowlight_cli", "enhance", str(src), "-o", str(out), "--format", "png", "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 120

    def finished() -> list[Path]:
        return [p for p in out.iterdir() if not p.name.startswith(".")] if out.exists() else []

    while time.time() < deadline and proc.poll() is None and not finished():
        time.sleep(0.005)  # until the first output is complete: the batch is then busy with the next one
    proc.send_signal(signal.SIGTERM)
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode == 143, (
        f"exit {proc.returncode} (0: the batch of 30 ended before the signal)\n{text}"
    )
    assert "Traceback" not in text and "interrupted; finished outputs are kept" in text
    names = sorted(p.name for p in out.iterdir())
    assert 1 <= len(names) < 30 and not [n for n in names if n.startswith(".")], names  # no .part file left
    from PIL import Image

    for name in names:
        assert Image.open(out / name).size == (320, 240)  # every file there is complete


def test_stale_part_files_of_a_killed_run_are_removed_and_live_ones_kept(photos, tmp_path):
    from lowlight_cli.io.atomic import STALE_SECONDS_NO_PID, atomic_path

    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out / f".photo.{dead.pid}-k3j_x9q2.part.jpg"  # its writer is gone
    old_style = out / ".photo.abcd1234.part.jpg"  # older name without a pid, an hour old
    live = out / f".photo.{os.getpid()}-zz9_x9q2.part.jpg"  # a writer still running (this process)
    mine = out / "notes.part.txt"  # not our naming: never touched
    for p in (stale, old_style, live, mine):
        p.write_bytes(b"")
    old = time.time() - STALE_SECONDS_NO_PID - 10
    for p in (stale, old_style, live):
        os.utime(p, (old, old))
    with atomic_path(out / "result.txt") as tmp:
        tmp.write_text("done")
    assert sorted(p.name for p in out.iterdir()) == sorted([live.name, mine.name, "result.txt"])


# --- training runs and their config -------------------------------------------------------------------------


def test_train_refuses_an_existing_run_unless_resume_or_overwrite(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.safetensors").write_bytes(b"earlier run")
    (run / "config.yaml").write_text("lr: 0.001\n")
    result = cli("train", "--data", tmp_path, "--out", run, "-q")
    assert result.exit_code == 1 and len(errors(result)) == 1
    assert "already holds a training run" in result.output and "--resume" in result.output
    assert "--overwrite" in result.output
    assert (run / "checkpoint.safetensors").read_bytes() == b"earlier run"


def test_overwrite_replaces_only_the_files_a_run_writes(tmp_path):
    from lowlight_cli.training import trainer

    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    (run / "checkpoint.safetensors").write_bytes(b"earlier run")
    (run / "notes.txt").write_text("mine")
    cfg = __import__("lowlight_cli.training.run_config", fromlist=["load_config"]).load_config(
        None, (f"out={run}",)
    )
    with pytest.raises(Exception) as caught:  # stops at the (missing) data, after the old run was cleared
        trainer.train(cfg, overwrite=True)
    assert "lowlight-synth" in str(caught.value) or "data" in str(caught.value)
    assert sorted(p.name for p in run.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("stages=[{name: joint, step: 2}]", "config: stages.0.step: unknown key"),
        ("lr=-1", "config: lr: should be greater than 0, not -1"),
        ("batch=0", "config: batch: should be greater than or equal to 1, not 0"),
        ("crop=abc", "config: crop: should be a valid integer"),
        ("losses.region=-2", "config: losses.region: should be greater than or equal to 0"),
        ("schedule=linear", "config: schedule: should be 'cosine', 'step' or 'constant'"),
        ("ema=1", "config: ema: should be less than 1"),
    ],
)
def test_bad_config_values_are_one_line_naming_the_key_and_leave_no_folder(tmp_path, override, message):
    run = tmp_path / "run"
    result = cli("train", "--data", tmp_path, "--out", run, "--set", override, "-q")
    assert result.exit_code == 1 and len(errors(result)) == 1, result.output
    assert message in result.output
    assert not run.exists()


def test_config_file_with_a_typo_names_the_file_and_key(tmp_path):
    (tmp_path / "c.yaml").write_text("lr: 1e-4\nstages:\n  - {name: joint, stpes: 3}\n")
    result = cli("train", "-c", tmp_path / "c.yaml", "--out", tmp_path / "run", "-q")
    assert result.exit_code == 1 and "stages.0.stpes: unknown key" in result.output
    assert not (tmp_path / "run").exists()


# --- bench --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--sizes", "-1"), "--sizes: -1 megapixels is out of range"),
        (("--sizes", "abc"), "--sizes: 'abc' is not a number"),
        (("--sizes", "nan"), "out of range"),
        (("--tiles", "big"), "--tiles: 'big' is neither auto nor a tile size"),
        (("--backends", "tensorflow"), "--backends: tensorflow is not one of"),
        (("--precisions", "fp16", "--device", "cpu"), "--precisions fp16 needs a CUDA device"),
        (("--video", "missing.mp4", "--sizes", "0.05"), "missing.mp4: no such file"),
    ],
)
def test_bench_checks_every_option_before_the_first_case(tmp_path, args, message):
    result = cli(
        "bench",
        *args,
        "--backends" if "--backends" not in args else "--repeats",
        "onnx" if "--backends" not in args else "1",
        "-o",
        tmp_path / "bench",
    )
    assert result.exit_code == 1 and len(errors(result)) == 1, result.output
    assert message in result.output and "1/" not in result.output  # no case ran
    assert not (tmp_path / "bench").exists()


# --- Hub and bundled weights --------------------------------------------------------------------------------

OFFLINE = {
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "HF_HUB_OFFLINE": "0",
}


def run_offline(*args: str, cache: Path) -> tuple[subprocess.CompletedProcess, int]:
    """In a subprocess: huggingface_hub keeps one HTTP client per process, proxy settings included.
    Returns the process and the number of TCP connections it attempted (all refused: the proxy is dead)."""
    from _net import COUNTING_MAIN

    count = cache.parent / "connections.txt"
    env = {
        **os.environ,
        **OFFLINE,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_CACHE": str(cache),
        "LOWLIGHT_TEST_CONNECTIONS": str(count),
    }
    env.pop("LOWLIGHT_DEBUG", None)
    p = subprocess.run(
        [sys.executable, "-c", COUNTING_MAIN, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return p, int(count.read_text())


def test_hf_reference_offline_fails_fast_with_advice_that_is_not_circular(tmp_path):
    for args in (
        (
            "enhance",
            DATA / "synth" / PHOTOS[0].name,
            "-o",
            tmp_path,
            "-w",
            "hf://nobody/none@main/model.safetensors",
            "--backend",
            "torch",
        ),
        ("weights", "pull", "hf://nobody/none@main/model.safetensors"),
    ):
        p, attempts = run_offline(*args, cache=tmp_path / "hub")
        text = p.stdout + p.stderr
        assert 1 <= attempts <= 2, f"no retry loop against a dead network: {attempts} connection attempts"
        assert p.returncode == 1 and len(text.strip().splitlines()) == 1, text
        assert "not in the local cache and the Hub cannot be reached" in text
        assert "weights pull" not in text and "Retrying" not in text and "Traceback" not in text


def test_push_offline_is_one_line(tmp_path):
    p, _ = run_offline("weights", "push", "official", "me/agllnet-test", cache=tmp_path / "hub")
    text = p.stdout + p.stderr
    assert p.returncode == 1 and len(text.strip().splitlines()) == 1, text
    assert "cannot reach the Hub" in text and "nothing was uploaded" in text


def test_bundled_weights_are_read_only_to_every_command(tmp_path):
    from lowlight_cli.errors import WeightsError
    from lowlight_cli.io.atomic import atomic_path
    from lowlight_cli.weights.registry import bundled_dir

    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in bundled_dir().rglob("*") if p.is_file()}
    result = cli("export", "-w", "official")
    assert result.exit_code == 1 and "--out is needed for bundled weights" in result.output
    result = cli("export", "-w", "official", "--out", bundled_dir() / "official" / "onnx")
    assert result.exit_code == 1 and "inside the bundled weights" in result.output
    result = cli("enhance", PHOTOS[0], "-o", bundled_dir() / "official", "-q")
    assert result.exit_code == 1 and "inside the bundled weights" in result.output
    with pytest.raises(WeightsError):
        with atomic_path(bundled_dir() / "official" / "config.json") as tmp:
            tmp.write_text("{}")
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in bundled_dir().rglob("*") if p.is_file()}
    assert after == before


# --- Python API ---------------------------------------------------------------------------------------------


def test_enhancer_scales_uint8_and_uint16_and_refuses_0_255_floats():
    from PIL import Image

    from lowlight_cli.errors import LowlightError
    from lowlight_cli.inference.enhancer import Enhancer

    enhancer = Enhancer(device="cpu", backend="onnx")
    u8 = np.asarray(Image.open(PHOTOS[0]).convert("RGB").resize((96, 64)))
    ref = enhancer.enhance(u8.astype(np.float32) / 255).image
    for array in (u8, u8.astype(np.uint16) * 257):
        out = enhancer.enhance(array).image
        assert out.dtype == np.float32 and np.abs(out - ref).max() < 1e-5
        assert (out > 0.99).mean() < 0.5  # not the all-white image (share 1.0) a 0-255 input used to give
    for bad, message in (
        (u8.astype(np.float32), "0-255 values? pass uint8"),
        (u8.astype(np.int64), "got int64"),
        (u8[..., 0], "shape (H, W, 3)"),
    ):
        with pytest.raises(
            LowlightError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")
        ):
            enhancer.enhance(bad)


def test_backend_onnx_without_onnxruntime_is_one_line(tmp_path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'onnxruntime':\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"}
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "lowlight_cli",
            "enhance",
            str(PHOTOS[0]),
            "-o",
            str(tmp_path / "o"),
            "--backend",
            "onnx",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "lowlight[cpu]" in p.stderr


# --- image formats and synth input --------------------------------------------------------------------------


def test_multi_page_and_float_tiff_are_refused_clearly(tmp_path):
    import tifffile

    pages = (np.random.default_rng(0).random((3, 32, 48, 3)) * 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "scan.tif", pages, photometric="rgb")
    tifffile.imwrite(tmp_path / "hdr.tif", pages[0].astype(np.float32) / 255, photometric="rgb")
    tifffile.imwrite(tmp_path / "grey-hdr.tif", pages[0, ..., 0].astype(np.float32) / 255)
    result = cli(
        "enhance",
        tmp_path / "scan.tif",
        tmp_path / "hdr.tif",
        tmp_path / "grey-hdr.tif",
        "-o",
        tmp_path / "out",
        "-q",
    )
    assert result.exit_code == 1
    assert "scan.tif: multi-page TIFF (3 pages)" in result.output
    assert "hdr.tif: float32 TIFF: floating-point samples" in result.output
    assert "grey-hdr.tif: floating-point samples" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("content", ["empty", "non-images", "unreadable"])
def test_synth_without_images_exits_non_zero(tmp_path, content):
    src = tmp_path / "src"
    src.mkdir()
    if content == "non-images":
        (src / "notes.txt").write_text("not a photo")
    if content == "unreadable":
        (src / "fake.jpg").write_bytes(b"this is not a jpeg")
    result = cli("synth", "--src", src, "--out", tmp_path / "pairs", "--workers", "0", "-q")
    assert result.exit_code == 1, result.output
    assert "no images found in" in result.output
    if content != "unreadable":
        assert not (tmp_path / "pairs").exists()


# --- --debug ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(tmp_path, how):
    args = ["--debug"] if how == "flag" else []
    env = {**os.environ, "PYTHONPATH": str(ROOT), **({"LOWLIGHT_DEBUG": "1"} if how == "env" else {})}
    cmd = [
        sys.executable,
        "-m",
        "lowlight_cli",
        *args,
        "synth",
        "--src",
        str(tmp_path),
        "--out",
        str(tmp_path / "o"),
    ]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "Traceback (most recent call last)" in p.stderr
    assert "LowlightError: no images found" in p.stderr
