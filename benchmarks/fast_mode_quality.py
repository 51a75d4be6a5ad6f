"""Fast mode (`--quality fast`) against the full model: PSNR to the ground truth on a noisy synthetic set.

For each pair the full model and fast mode enhance the low image; PSNR is taken against the normal-light
image. Fast mode runs at `--fast-side` and, to stand for 1080p footage (1920 px wide, network at 384 px: a
factor of 5), also at the same *factor* on these smaller images (`side = longer side / 5`).

    python -m benchmarks fast_mode_quality data/look/synth-noisy-test -w official \
        --out docs/results/speed/fast-mode.json --pair docs/images/fast-vs-full.jpg
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from lowlight_cli.evaluation.metrics import psnr_images
from lowlight_cli.inference.enhancer import Enhancer
from lowlight_cli.inference.guided_upsampling import FAST_SIDE
from lowlight_cli.io.images import read_image, write_image

FACTOR_1080P = 1920 / FAST_SIDE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path, help="a `lowlight synth` output folder with test/low and test/high")
    ap.add_argument("-w", "--weights", default="official")
    ap.add_argument("--backend", default="onnx")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--fast-side", type=int, default=FAST_SIDE)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--pair", type=Path, default=None, help="write the first image's full|fast result side by side"
    )
    args = ap.parse_args()

    lows = sorted((args.dataset / "test" / "low").glob("*.png"))[: args.limit]
    full = Enhancer(args.weights, device="cpu", backend=args.backend)
    fast = Enhancer(args.weights, device="cpu", backend=args.backend, fast=True, fast_side=args.fast_side)
    rows = []
    for path in lows:
        low, meta = read_image(path)
        high, _ = read_image(args.dataset / "test" / "high" / path.name)
        t = time.perf_counter()
        out_full = full.enhance(low).image
        t_full = time.perf_counter() - t
        t = time.perf_counter()
        out_fast = fast.enhance(low).image
        t_fast = time.perf_counter() - t
        side = max(16, round(max(low.shape[:2]) / FACTOR_1080P))
        at_factor = Enhancer(
            args.weights, device="cpu", backend=args.backend, fast=True, fast_side=max(64, side)
        )
        out_factor = at_factor.enhance(low).image
        rows.append(
            {
                "image": path.name,
                "size": f"{low.shape[1]}x{low.shape[0]}",
                "psnr_low": psnr_images(low, high),
                "psnr_full": psnr_images(out_full, high),
                "psnr_fast": psnr_images(out_fast, high),
                "psnr_fast_1080p_factor": psnr_images(out_factor, high),
                "fast_vs_full": psnr_images(out_fast, out_full),
                "seconds_full": t_full,
                "seconds_fast": t_fast,
                "side_1080p_factor": max(64, side),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
        if args.pair and len(rows) == 1:
            args.pair.parent.mkdir(parents=True, exist_ok=True)
            write_image(
                args.pair,
                np.concatenate([out_full, np.ones_like(out_full[:, :4]), out_fast], 1),
                meta,
                fmt="jpeg",
                quality=90,
            )
    keys = ("psnr_low", "psnr_full", "psnr_fast", "psnr_fast_1080p_factor", "fast_vs_full")
    summary = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    summary["loss_db"] = summary["psnr_full"] - summary["psnr_fast"]
    summary["loss_db_1080p_factor"] = summary["psnr_full"] - summary["psnr_fast_1080p_factor"]
    result = {
        "dataset": str(args.dataset.name),
        "weights": args.weights,
        "backend": args.backend,
        "fast_side": args.fast_side,
        "images": len(rows),
        "mean": summary,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
