"""Does batching same-size images pay on this machine? Seconds per image of the network alone (onnxruntime,
CPU) for batches of 1, 2 and 4 identical-size images, at a few sizes; best of `--repeats`.

    python -m benchmarks batch_sizes --out docs/results/speed/batch-sizes.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from lowlight_cli.inference.enhancer import Enhancer
from lowlight_cli.speed.cases import test_image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-w", "--weights", default="official")
    ap.add_argument("--sizes", default="256x144,640x360,960x540")
    ap.add_argument("--batches", default="1,2,4")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    enhancer = Enhancer(args.weights, device="cpu", backend="onnx", tile=0)
    rows = []
    for size in args.sizes.split(","):
        w, h = map(int, size.split("x"))
        image = test_image(w, h)
        single = None
        for n in map(int, args.batches.split(",")):
            batch = np.stack([np.roll(image, 17 * i, axis=1) for i in range(n)])
            enhancer.enhance_batch(batch)  # warm-up: onnxruntime plans each new shape once
            best = min(_timed(enhancer, batch) for _ in range(args.repeats)) / n
            single = single or best
            rows.append(
                {"size": size, "batch": n, "seconds_per_image": best, "speedup_vs_batch_1": single / best}
            )
            print(json.dumps(rows[-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"weights": args.weights, "backend": enhancer.backend.description, "rows": rows}, indent=2)
        + "\n"
    )


def _timed(enhancer: Enhancer, batch: np.ndarray) -> float:
    start = time.perf_counter()
    enhancer.enhance_batch(batch)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
