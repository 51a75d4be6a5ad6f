"""The tables in the docs are what their generators make of the committed result files (a stale table fails)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_look_and_training_tables_are_current():
    """scripts/look_tables.py --check: docs/benchmarks.md, docs/training.md and the model cards' generated parts."""
    run = subprocess.run(
        [sys.executable, "scripts/look_tables.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_lite_cost_results_are_complete():
    run = subprocess.run(
        [sys.executable, "benchmarks/lite_cost.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
