"""Where a method's PSNR on the paired look sets is lost: exposure, colour balance, or the image itself.

    python scripts/error_decomposition.py -m official=official -m agllnet-noise=agllnet-noise \
        -m agllnet-look-3=agllnet-look-3

For each pair of `lol-test` and `synth-noisy` (the look benchmark's paired sets) and each method, the PSNR of
- `raw`: the output, as the look benchmark scores it;
- `exposure`: the output times the one gain that gives it the target's mean (the best a brightness change can do);
- `balance`: the output times one gain per channel matching the target's channel means (exposure and white
  balance fixed by an oracle);
- `oracle gamma` (method row `oracle-gamma`): the input raised to the one gamma that gives it the target's mean
  luma, the best a global gamma can do with the answer known.
It also reports the mean R, G, B error (output minus target). A method far below its `balance` score has the
wrong exposure or colour cast; one whose `balance` score is low has the wrong tone curve, detail or noise.
Writes docs/results/look/error-decomposition.csv.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from look_benchmark import SETS, check_synthetic, method  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAIRED = ("lol-test", "synth-noisy")
COLUMNS = ("set", "method", "images", "raw", "exposure", "balance", "error_r", "error_g", "error_b")


def scores(out: np.ndarray, target: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    from lowlight_cli.evaluation.metrics import psnr_images

    out = np.clip(out, 0, 1)
    channel_out, channel_target = out.reshape(-1, 3).mean(0), target.reshape(-1, 3).mean(0)
    exposure = np.clip(out * (target.mean() / max(out.mean(), 1e-6)), 0, 1)
    balance = np.clip(out * (channel_target / np.maximum(channel_out, 1e-6)), 0, 1)
    return (psnr_images(out, target), psnr_images(exposure, target), psnr_images(balance, target),
            channel_out - channel_target)


def main() -> None:
    from lowlight_cli.colour import gamma_to_mean, mean_luma
    from lowlight_cli.evaluation.evaluate import find_samples
    from lowlight_cli.io.images import read_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-m", "--method", action="append", required=True, help="LABEL=WEIGHTS")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: all cores)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "look" / "error-decomposition.csv")
    args = parser.parse_args()
    methods = {label: method(spec, args.threads) for label, spec in (m.split("=", 1) for m in args.method)}
    rows = []
    for set_name in PAIRED:
        check_synthetic(set_name)
        data, split, self_target, _ = SETS[set_name]
        per_method: dict[str, list] = {}
        for sample in find_samples(data, split, self_target):
            low, high = read_image(sample.low)[0], read_image(sample.high)[0]
            outputs = {label: fn(low) for label, fn in methods.items()}
            outputs["oracle-gamma"] = gamma_to_mean(low, mean_luma(high))
            for label, out in outputs.items():
                per_method.setdefault(label, []).append(scores(out, high))
        for label, values in per_method.items():
            raw, exposure, balance, error = (np.mean([v[i] for v in values], axis=0) for i in range(4))
            rows.append({"set": set_name, "method": label, "images": len(values), "raw": round(float(raw), 2),
                         "exposure": round(float(exposure), 2), "balance": round(float(balance), 2),
                         **{f"error_{c}": round(float(e), 3) for c, e in zip("rgb", error)}})
            print(" ".join(f"{rows[-1][c]}" for c in COLUMNS), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
