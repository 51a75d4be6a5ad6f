"""Every command with bad arguments, in a real subprocess: exit 1 (one `error:` line) or 2 (a usage error),
never a Python traceback nor the "a bug in lowlight" line. The cases run in parallel, a few at a time."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # one `lowlight` subprocess per bad command line

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "official" / "sample_5047.jpg"

BAD = [
    ("enhance", "nowhere/*.jpg"),
    ("enhance", str(SAMPLE), "--tile", "-1"),
    ("enhance", str(SAMPLE), "--strength", "2"),
    ("enhance", str(SAMPLE), "--exposure", "bright"),
    ("enhance", str(SAMPLE), "--format", "gif"),
    ("enhance", str(SAMPLE), "-w", "no-such-weights"),
    ("enhance", str(SAMPLE), "--device", "tpu"),
    ("enhance", str(SAMPLE), "-o", f"{SAMPLE}/x"),
    ("video", "missing.mp4", "out.mp4"),
    ("video", str(ROOT / "pyproject.toml"), "out.mp4"),
    ("video", "in.mp4", "out.mp4", "--crf", "abc"),
    ("weights", "verify", "no-such-weights"),
    ("weights", "pull", "not-a-reference"),
    ("weights", "push", "no-such-weights", "me/x"),
    ("weights", "import-onnx", "missing.onnx"),
    ("weights", "frobnicate"),
    ("export", "--opset", "5"),
    ("export", "-w", "no-such-weights", "--out", "x"),
    ("bench", "--sizes", "x"),
    ("bench", "--repeats", "0"),
    ("synth", "--src", "nowhere"),
    ("synth", "--src", "photos", "--shard", "3/2"),
    ("synth", "--src", "photos", "--gamma", "2"),
    ("synth-merge", "nowhere"),
    ("train", "--set", "lr=abc"),
    ("train", "--resume", "nowhere"),
    ("train", "-c", "missing.yaml"),
    ("eval", "--data", "nowhere", "--baseline", "gamma"),
    ("eval", "--data", str(SAMPLE.parent), "--baseline", "sharpen"),
    ("no-such-command",),
]


def run(args: tuple[str, ...], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    env.pop("LOWLIGHT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "lowlight_cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[tuple[str, ...], subprocess.CompletedProcess]:
    cwd = tmp_path_factory.mktemp("cli")
    with ThreadPoolExecutor(4) as pool:
        return dict(zip(BAD, pool.map(lambda args: run(args, cwd), BAD), strict=True))


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a)[:60] for a in BAD])
def test_bad_arguments_exit_1_or_2_without_a_traceback(outcomes, args):
    p = outcomes[args]
    text = p.stdout + p.stderr
    assert p.returncode in (1, 2), (p.returncode, text)
    assert "Traceback" not in text and "a bug in lowlight" not in text, text
    if p.returncode == 1:
        errors = [line for line in text.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, text
