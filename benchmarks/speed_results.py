"""The timed figures of docs/performance.md's speed-mode section: `lowlight bench`, bf16 on torch, the tables.

    python -m benchmarks speed_results [--shared ../shared/data]

Runs, from the checkout, `lowlight bench` (onnx fp32 at 0.5 MP with the ratios, the authors' graph and the
sample video from the shared data; small sizes, so the run fits a few minutes of a shared machine) into
docs/results/speed/bench.json, then `bf16_cpu` at 256x128 into docs/results/speed/bf16-cpu.json (emulated bf16
on a CPU without AVX-512 BF16 or AMX is about 77x slower), then `performance_tables`. The other speed-mode
files hold accuracy or one-off measurements: fast_mode_quality, fast_video and batch_sizes write them. Run it
on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.paths import ROOT, SHARED, SHARED_HELP


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help=SHARED_HELP)
    args = parser.parse_args()
    shared = Path(os.path.relpath(args.shared.resolve(), ROOT))  # the command bench.json records
    steps = [
        ["-m", "lowlight_cli", "bench", "--backends", "onnx", "--precisions", "fp32", "--sizes", "0.5"]
        + [
            "--ratios",
            "--authors-graph",
            str(shared / "reference/agllnet_official/agllnet_official_256x256.onnx"),
        ]
        + [
            "--video",
            str(shared / "video/sample_no.mp4"),
            "--video-seconds",
            "0.1",
            "--fast-video-seconds",
            "2",
        ]
        + ["-o", "docs/results/speed"],
        ["-m", "benchmarks", "bf16_cpu", "--size", "256x128", "--repeats", "1"]
        + ["--out", "docs/results/speed/bf16-cpu.json"],
        ["-m", "benchmarks", "performance_tables"],
    ]
    for step in steps:
        print("$ python " + " ".join(step), flush=True)
        subprocess.run([sys.executable, *step], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
