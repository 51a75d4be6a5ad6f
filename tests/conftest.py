"""Shared fixtures: the official reference files and a cached imported model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
OFFICIAL_ONNX = DATA / "official" / "agllnet_official_256x256.onnx"
SAMPLE = DATA / "official" / "sample_5047.jpg"


def load_rgb(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """HxWx3 float32 in [0, 1]; `size` is (width, height), resized with area averaging."""
    from PIL import Image

    im = Image.open(path).convert("RGB")
    if size:
        im = im.resize(size, Image.Resampling.BOX)
    return np.asarray(im, dtype=np.float32) / 255.0


@pytest.fixture(scope="session")
def official_model():
    from lowlight_cli.weights.model_io import load_model

    return load_model("official")


@pytest.fixture(scope="session")
def sample_rgb() -> np.ndarray:
    return load_rgb(SAMPLE)


# --- CI: a skipped test is a failure, except a `cuda` test on a machine without CUDA -----------------------
# The test extra installs everything the suite imports, so a skip means a broken environment or a silent
# importorskip; `.ci/run` passes --fail-on-skip so that such a run cannot pass.

_unexpected_skips: list[str] = []


def pytest_addoption(parser):
    parser.addoption(
        "--fail-on-skip",
        action="store_true",
        help="fail the run when any test not marked `cuda` is skipped (used by .ci/run)",
    )


def pytest_runtest_logreport(report):
    if report.skipped and "cuda" not in report.keywords:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _unexpected_skips.append(f"{report.nodeid}: {reason}")


_fuzz_cases: Counter = Counter()


@pytest.fixture(scope="session")
def fuzz_cases() -> Counter:
    """Outcome -> number of fuzz cases run (tests/test_fuzz.py); printed in the run's summary."""
    return _fuzz_cases


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _fuzz_cases:
        terminalreporter.section(f"fuzz cases: {sum(_fuzz_cases.values())}")
        for outcome, n in sorted(_fuzz_cases.items()):
            terminalreporter.write_line(f"{n:6d}  {outcome}")
    if config.getoption("--fail-on-skip") and _unexpected_skips:
        terminalreporter.section("skipped tests that must run (--fail-on-skip)", red=True)
        for line in _unexpected_skips:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    if session.config.getoption("--fail-on-skip") and _unexpected_skips and exitstatus == 0:
        session.exitstatus = 1
