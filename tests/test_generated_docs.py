"""The tables in the docs are what their generators make of the committed result files (a stale table fails),
and the generators live in one place (benchmarks/) behind one runner."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys

from benchmarks import __main__ as runner
from benchmarks import performance_tables, serve_bench
from benchmarks.paths import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_every_generated_table_is_current():
    """python -m benchmarks --check: the look tables and summaries, the training page's and model cards'
    curves, the lite cost rows, docs/performance.md's speed modes, docs/scale.md's and docs/serve.md's
    measurements."""
    done = run("--check")
    assert done.returncode == 0, done.stdout + done.stderr
    for name in (
        "look_benchmark",
        "look_tables",
        "lite_cost",
        "performance_tables",
        "scale_bench",
        "serve_bench",
    ):
        assert f"{name}: ok" in done.stdout


def test_a_stale_table_is_named(tmp_path, monkeypatch):
    doc, text = tmp_path / "performance.md", performance_tables.DOC.read_text()
    doc.write_text(text.replace("| 256 | 2 | libx265 veryfast |", "| 256 | 9 | libx265 veryfast |"))
    assert doc.read_text() != text
    monkeypatch.setattr(performance_tables, "DOC", doc)
    assert performance_tables.check() == [
        f"{doc}: out of date; rerun python -m benchmarks performance_tables"
    ]
    serve = tmp_path / "serve.md"
    shutil.copy(ROOT / "docs" / "serve.md", serve)
    assert serve_bench.check(serve) == []
    serve.write_text(serve.read_text().replace("| requests at once |", "| requests |"))
    assert serve_bench.check(serve) == [f"{serve}: out of date; rerun python -m benchmarks serve_bench"]
    assert "| requests |" in serve.read_text()  # --check never writes


def test_the_runner_lists_every_generator_in_the_folder():
    files = {p.stem for p in (ROOT / "benchmarks").glob("*.py")} - {"__init__", "__main__", *runner.HELPERS}
    assert files == set(runner.GENERATORS)
    listing = run().stdout
    assert all(f"  {name} " in listing for name in runner.GENERATORS)
    assert not (ROOT / "scripts" / "look_benchmark.py").exists()


def test_the_shared_data_is_found_through_one_setting():
    """No generator builds the shared data's path itself: benchmarks/paths.py's SHARED (with --shared) is
    it."""
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        if path.name == "paths.py":
            continue
        strings = [n.value for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)]
        found = [s for s in strings if s in ("shared", "LOWLIGHT_SHARED_DATA") or "/work/" in str(s)]
        assert not found, f"{path.name}: {found}"


def test_look_benchmark_keeps_its_options_behind_the_runner():
    done = run("look_benchmark", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m benchmarks look_benchmark")
    for option in ("--method", "--sets", "--force", "--merge", "--threads", "--shared", "--data", "--limit"):
        assert option in done.stdout
    missing = run("look_benchmark")
    assert missing.returncode == 2 and "the following arguments are required: -m/--method" in missing.stderr


def test_an_unknown_generator_is_one_line():
    done = run("no_such_thing")
    assert (
        done.returncode == 1
        and done.stderr.count("\n") == 1
        and "no generator 'no_such_thing'" in done.stderr
    )
