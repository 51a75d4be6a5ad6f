#!/bin/sh
# The timed figures of docs/performance.md's speed-mode section. Run on an otherwise idle machine, e.g.
#   flock /work/bench.lock scripts/speed_results.sh
# (fast-mode.json holds accuracy, not timing: scripts/fast_mode_quality.py.)
set -e
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
SHARED=../shared/data
# Sizes kept small (0.5 MP images, 3 frames of 1080p video for the full model, the whole 2 s clip for --fast)
# so the run fits a few minutes of a shared machine.
$PY -m lowlight_cli bench --backends onnx --precisions fp32 --sizes 0.5 --ratios \
    --authors-graph $SHARED/reference/agllnet_official/agllnet_official_256x256.onnx \
    --video $SHARED/video/sample_no.mp4 --video-seconds 0.1 --fast-video-seconds 2 -o docs/results/speed
$PY scripts/bf16_cpu.py --size 256x128 --repeats 1 --out docs/results/speed/bf16-cpu.json  # emulated bf16 here: 77x slower
$PY scripts/performance_tables.py
