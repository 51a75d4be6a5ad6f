"""Measure the int8 accuracy gate of a bundled weights name and record it in its ONNX manifest.

For each test set, every low image is enhanced by the fp32 and the int8 graphs (onnxruntime, CPU, same
Enhancer settings). Recorded per set: PSNR of the int8 output against the fp32 output, and the quality metric
(PSNR to the set's reference image) of both. The gate (lowlight_cli.inference.precision.INT8_GATE) needs
>= 40 dB int8-vs-fp32 on every set and no set losing more than 0.1 dB of quality.

    python scripts/int8_gate.py official --limit 8 --out docs/results/int8-gate.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lowlight_cli.evaluation.metrics import psnr_images  # noqa: E402
from lowlight_cli.inference.enhancer import Enhancer  # noqa: E402
from lowlight_cli.inference.precision import INT8_GATE  # noqa: E402
from lowlight_cli.io.images import read_image  # noqa: E402
from lowlight_cli.weights.onnx_quantize import add_to_manifest  # noqa: E402
from lowlight_cli.weights.registry import BUNDLED, ONNX_DIR, bundled_dir  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "synth-noisy-test": (Path("/work/main/data/look/synth-noisy-test/test/low"), "../high"),
    "lol_train (real)": (ROOT.parent / "shared" / "data" / "lol_train" / "low", "../high"),
}
"""Name -> (folder of low images, reference folder relative to it; same file names)."""



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights", choices=sorted(BUNDLED))
    ap.add_argument("--limit", type=int, default=None, help="images per set (first N by name)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--no-manifest", action="store_true", help="measure only; do not record the gate")
    args = ap.parse_args()

    fp32 = Enhancer(args.weights, device="cpu", backend="onnx", precision="fp32")
    int8 = Enhancer(args.weights, device="cpu", backend="onnx", precision="int8")
    sets = {}
    for name, (folder, ref) in SETS.items():
        rows = []
        for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg"))[: args.limit]:
            low, _ = read_image(path)
            high, _ = read_image(folder / ref / path.name)
            t = time.perf_counter()
            a = fp32.enhance(low).image
            t32 = time.perf_counter() - t
            t = time.perf_counter()
            b = int8.enhance(low).image
            t8 = time.perf_counter() - t
            rows.append({"image": path.name, "int8_vs_fp32_db": psnr_images(b, a), "fp32_psnr_db": psnr_images(a, high),
                         "int8_psnr_db": psnr_images(b, high), "seconds_fp32": t32, "seconds_int8": t8})
            print(name, json.dumps(rows[-1]), flush=True)
        mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "image"}
        sets[name] = {"images": len(rows), "min_int8_vs_fp32_db": float(min(r["int8_vs_fp32_db"] for r in rows)),
                      "quality_loss_db": mean["fp32_psnr_db"] - mean["int8_psnr_db"], "mean": mean, "rows": rows}
    gate = {
        "min_psnr_vs_fp32_db": min(s["mean"]["int8_vs_fp32_db"] for s in sets.values()),
        "max_metric_loss_db": max(s["quality_loss_db"] for s in sets.values()),
        "metric": "PSNR to the reference, mean per set",
        "sets": {k: {"images": v["images"], "int8_vs_fp32_db": v["mean"]["int8_vs_fp32_db"],
                     "quality_loss_db": v["quality_loss_db"]} for k, v in sets.items()},
        "required": INT8_GATE,
        "measured_by": "scripts/int8_gate.py" + (f" --limit {args.limit}" if args.limit else ""),
    }
    from lowlight_cli.inference.precision import gate_passed

    gate["passed"] = gate_passed(gate)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"weights": args.weights, "gate": gate, "sets": sets}, indent=2) + "\n")
    if not args.no_manifest:
        add_to_manifest(bundled_dir() / BUNDLED[args.weights].folder / ONNX_DIR, "int8", gate=gate)
    print(json.dumps(gate, indent=2))


if __name__ == "__main__":
    main()
