"""Training-step speed of the Noise-Net model on this machine, per recipe option (CPU or GPU).

    python -m benchmarks train_speed [--steps 3] [--timeout 150] [--out docs/results/train_speed.csv]

Each row times `--steps` optimizer steps (forward, all four loss terms, backward, AdamW) after one warm-up
step, in a fresh process (a recipe that crashes or exceeds --timeout is recorded as such), and the on-the-fly
synthesis of one training sample at that crop (what the loader workers must keep up with: workers needed
= batch x synthesis time / step time). Options: crop, batch, channels-last memory format, bf16 autocast.
Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.paths import ROOT

RECIPES = [
    # crop, batch, channels_last, bf16
    (256, 4, False, False),
    (256, 4, True, False),
    (128, 8, False, False),
    (128, 8, True, False),
    (128, 16, True, False),
    (128, 8, False, True),
    (128, 8, True, True),
]


def step_time(crop: int, batch: int, channels_last: bool, bf16: bool, steps: int) -> float:
    from lowlight_cli.training.losses import TERMS, AgLLNetLoss, LossWeights
    from lowlight_cli.training.run_config import TrainConfig
    from lowlight_cli.training.trainer import build_model, predict

    torch.manual_seed(0)
    model = build_model(TrainConfig(init="official", noise_net=True))
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt).train()
    loss = AgLLNetLoss(LossWeights())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    x = {
        k: torch.rand(batch, c, crop, crop).contiguous(memory_format=fmt)
        for k, c in (("low", 3), ("high", 3), ("attention", 1), ("noise", 3), ("amplified", 3))
    }
    x["noise_known"] = torch.ones(batch, 1)
    times = []
    for i in range(steps + 1):
        tic = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            preds = predict(model, x["low"], TERMS)
        parts = loss({k: v.float() for k, v in preds.items()}, x, TERMS, "high")
        opt.zero_grad()
        parts["total"].backward()
        opt.step()
        if i >= 1:
            times.append(time.perf_counter() - tic)
    return float(np.median(times))


def synthesis_time(crop: int, photo: Path, repeats: int = 10) -> float:
    from lowlight_cli.training.data import OnTheFlyPairs

    data = OnTheFlyPairs(photo.parent, crop=crop, amplify=False)
    tic = time.perf_counter()
    for i in range(repeats):
        data[i % len(data)]
    return (time.perf_counter() - tic) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=150)
    parser.add_argument("--out", type=Path, default=Path("docs/results/train_speed.csv"))
    parser.add_argument(
        "--one", help=argparse.SUPPRESS
    )  # crop,batch,channels_last,bf16: run one recipe, print s/step
    args = parser.parse_args()
    if args.one:
        crop, batch, cl, bf16 = (int(v) for v in args.one.split(","))
        print(step_time(crop, batch, bool(cl), bool(bf16), args.steps))
        return
    photo = ROOT / "tests" / "data" / "synth" / "000000000785.jpg"
    rows = []
    for crop, batch, cl, bf16 in RECIPES:
        cmd = [
            sys.executable,
            "-m",
            "benchmarks",
            "train_speed",
            "--steps",
            str(args.steps),
            "--one",
            f"{crop},{batch},{int(cl)},{int(bf16)}",
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, cwd=ROOT)
            seconds = float(done.stdout.split()[-1]) if done.returncode == 0 else float("nan")
            note = "" if done.returncode == 0 else f"crashed (exit {done.returncode})"
        except subprocess.TimeoutExpired:
            seconds, note = float("nan"), f"{args.steps + 1} steps took over {args.timeout} s"
        row = {
            "crop": crop,
            "batch": batch,
            "channels_last": cl,
            "bf16": bf16,
            "threads": torch.get_num_threads(),
            "s_per_step": round(seconds, 2),
            "kpx_per_s": round(batch * crop * crop / seconds / 1e3, 1),
            "synth_s_per_sample": round(synthesis_time(crop, photo), 4),
            "note": note,
        }
        rows.append(row)
        print(row, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, rows[0].keys())
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
