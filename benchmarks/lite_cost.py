"""AgLLNet-Lite against AgLLNet on this machine: FLOPs per pixel, training speed, inference speed.

    python -m benchmarks lite_cost [--weights agllnet-lite] [--out docs/results/lite/cost.csv] [--check]

* FLOPs: torch.utils.flop_counter over one forward pass at 128x128 (both stages), per pixel.
* Training: seconds per optimizer step (forward, every loss term of the recipe, backward, AdamW) for the same
  crops and batch, channels-last, after one warm-up step; the two networks alternate, best of `--repeats`.
* Inference: `Enhancer` through onnxruntime (CPU provider, all threads) on one 1920x1080 photo, the attention
  gate off, `official` and `--weights` alternating in one process, best of `--repeats`.

Run it on an otherwise idle machine (pause a training run with kill -STOP, resume with kill -CONT). `--check`
recomputes nothing and fails when the CSV is missing a row (its table in docs/training.md is look_tables').
"""

from __future__ import annotations

import argparse
import csv
import platform
import time
from pathlib import Path

import numpy as np

from benchmarks.paths import RESULTS

COLUMNS = ("quantity", "agllnet", "agllnet_lite", "ratio", "note")
ROWS = ("flops_per_pixel", "train_kpx_per_s", "onnx_1080p_s")
COST = RESULTS / "lite" / "cost.csv"


def flops_per_pixel(model, side: int = 128) -> float:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.rand(1, 3, side, side))
    return counter.get_total_flops() / side**2


def train_step_seconds(models: dict, crop: int, batch: int, repeats: int) -> dict[str, float]:
    import torch

    from lowlight_cli.training.losses import TERMS, AgLLNetLoss, LossWeights
    from lowlight_cli.training.trainer import predict

    weights = LossWeights(under=1.0, gradient=1.0, frequency=1.0, exposure_normalised=0.5, black=2.0)
    fmt = torch.channels_last
    x = {
        k: torch.rand(batch, c, crop, crop).contiguous(memory_format=fmt)
        for k, c in (("low", 3), ("high", 3), ("attention", 1), ("noise", 3), ("amplified", 3))
    }
    x["noise_known"] = torch.ones(batch, 1)
    loss = AgLLNetLoss(weights)
    setups = {}
    for name, model in models.items():
        model = model.to(memory_format=fmt).train()
        setups[name] = (model, torch.optim.AdamW(model.parameters(), lr=1e-5))
    best = {name: float("inf") for name in models}
    for _ in range(repeats + 1):  # the first round warms up
        for name, (model, opt) in setups.items():
            tic = time.perf_counter()
            parts = loss(predict(model, x["low"], TERMS), x, TERMS, "high")
            opt.zero_grad()
            parts["total"].backward()
            opt.step()
            best[name] = min(best[name], time.perf_counter() - tic) if _ else best[name]
    return best


def onnx_seconds(weights: str, repeats: int) -> dict[str, float]:
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.onnx_backend import OnnxBackend
    from lowlight_cli.weights.registry import resolve_onnx

    image = (np.random.default_rng(0).random((1080, 1920, 3), dtype=np.float32) * 0.2).astype(np.float32)
    enhancers = {
        name: Enhancer(backend=OnnxBackend(resolve_onnx(ref), device="cpu"), gate=False)
        for name, ref in (("agllnet", "official"), ("agllnet_lite", weights))
    }
    best = {name: float("inf") for name in enhancers}
    for _ in range(repeats + 1):
        for name, enhancer in enhancers.items():
            tic = time.perf_counter()
            enhancer.enhance(image)
            best[name] = min(best[name], time.perf_counter() - tic) if _ else best[name]
    return best


def measure(weights: str, repeats: int, crop: int, batch: int) -> list[dict]:
    import torch

    from lowlight_cli.models.agllnet import AgLLNet
    from lowlight_cli.models.config import AgLLNetConfig
    from lowlight_cli.models.lite import AgLLNetLite

    torch.manual_seed(0)
    models = {"agllnet": AgLLNet(AgLLNetConfig.noise_variant()), "agllnet_lite": AgLLNetLite()}
    flops = {name: flops_per_pixel(m.eval()) for name, m in models.items()}
    step = train_step_seconds(models, crop, batch, repeats)
    kpx = {name: batch * crop * crop / s / 1e3 for name, s in step.items()}
    onnx = onnx_seconds(weights, repeats)
    machine = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    return [
        {
            "quantity": "flops_per_pixel",
            "agllnet": f"{flops['agllnet']:.0f}",
            "agllnet_lite": f"{flops['agllnet_lite']:.0f}",
            "ratio": f"{flops['agllnet'] / flops['agllnet_lite']:.1f}",
            "note": "forward, 128x128, torch.utils.flop_counter; AgLLNet with its Noise-Net",
        },
        {
            "quantity": "train_kpx_per_s",
            "agllnet": f"{kpx['agllnet']:.1f}",
            "agllnet_lite": f"{kpx['agllnet_lite']:.1f}",
            "ratio": f"{kpx['agllnet_lite'] / kpx['agllnet']:.1f}",
            "note": f"crop {crop}, batch {batch}, channels-last, {machine}",
        },
        {
            "quantity": "onnx_1080p_s",
            "agllnet": f"{onnx['agllnet']:.3f}",
            "agllnet_lite": f"{onnx['agllnet_lite']:.3f}",
            "ratio": f"{onnx['agllnet'] / onnx['agllnet_lite']:.1f}",
            "note": f"official vs {weights}, onnxruntime CPU, gate off, {machine}",
        },
    ]


def check(path: Path = COST) -> list[str]:
    """The committed CSV has every row."""
    with open(path, newline="") as f:
        found = {r["quantity"] for r in csv.DictReader(f)}
    missing = set(ROWS) - found
    return (
        [f"{path}: missing rows {sorted(missing)}; rerun python -m benchmarks lite_cost"] if missing else []
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", default="agllnet-lite")
    parser.add_argument("--out", type=Path, default=COST)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--check", action="store_true", help="fail when the committed CSV lacks a row")
    args = parser.parse_args()
    if args.check:
        problems = check(args.out)
        if problems:
            raise SystemExit("\n".join(problems))
        return
    rows = measure(args.weights, args.repeats, args.crop, args.batch)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    for r in rows:
        print(", ".join(f"{k} {v}" for k, v in r.items()))


if __name__ == "__main__":
    main()
