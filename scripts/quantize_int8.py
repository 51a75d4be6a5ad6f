"""Build the int8 (QDQ) graphs of a bundled weights name beside its fp32/fp16 graphs and list them in its manifest.

    python scripts/quantize_int8.py official                      # writes weights/official/onnx/*.int8.onnx
    python scripts/quantize_int8.py official --keep-fp32 fem.0/   # Conv nodes whose name contains a pattern stay fp32

Calibration inputs are low-light images synthesized (lowlight_cli.synth, default settings) from real photos that
are not in any test set (default: the 24 Kodak photos of ../shared/data/normal/kodak24). The accuracy gate is
measured afterwards by scripts/int8_gate.py, which records it in the manifest; until then `--precision auto`
does not pick these graphs.

What was tried (docs/performance.md, "int8"): ORT's per-tensor error report (qdq_loss_debug) and
exclusion of the layers it blamed; see KEEP_FP32 for the choice.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lowlight_cli.weights.onnx_quantize import (  # noqa: E402
    add_to_manifest, calibration_images, conv_names, quantize_stage, stage_feeds,
)
from lowlight_cli.weights.registry import BUNDLED, ONNX_DIR, bundled_dir, graph_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KEEP_FP32 = ("fem.0/",)
"""The first Enhancement-Net convolution sees image / (1 - attention), whose range reaches 1e5 where the
attention map is near 1: one uint8 scale for it is far too coarse. Keeping it fp32 was the best of the
exclusions measured (docs/performance.md)."""
DEFAULT_PHOTOS = ROOT.parent / "shared" / "data" / "normal" / "kodak24"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights", choices=sorted(BUNDLED))
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="folder of real photos to synthesize from")
    ap.add_argument("--count", type=int, default=16, help="calibration images (256x256 crops)")
    ap.add_argument("--keep-fp32", default=",".join(KEEP_FP32), help="comma-separated Conv name patterns kept in fp32")
    ap.add_argument("--method", default="minmax", choices=("minmax", "percentile", "entropy"))
    ap.add_argument("--no-reduce-range", action="store_true", help="8-bit weights (saturation risk without VNNI)")
    args = ap.parse_args()

    folder = bundled_dir() / BUNDLED[args.weights].folder / ONNX_DIR
    photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    start = time.perf_counter()
    feeds = stage_feeds(folder, calibration_images(photos, args.count))
    patterns = [p for p in args.keep_fp32.split(",") if p]
    kept = {}
    for stage in ("attention", "local"):
        names = conv_names(folder / graph_file(stage, "fp32"))
        kept[stage] = [n for n in names if any(p in n for p in patterns)]
        quantize_stage(folder / graph_file(stage, "fp32"), folder / graph_file(stage, "int8"), feeds[stage], kept[stage],
                       method=args.method, reduce_range=not args.no_reduce_range)
        print(f"{stage}: {len(names) - len(kept[stage])} of {len(names)} convolutions int8", flush=True)
    build = {
        "tool": "onnxruntime.quantization.quantize_static (QDQ, per-channel int8 weights, uint8 activations)",
        "calibration": f"{len(feeds['local'])} synthetic low-light 256x256 crops from {args.photos.name}",
        "method": args.method, "reduce_range": not args.no_reduce_range, "keep_fp32": kept,
    }
    add_to_manifest(folder, "int8", build=build)
    sizes = {f: (folder / graph_file(s, "int8")).stat().st_size for s in ("attention", "local") for f in [s]}
    print(f"wrote {folder} int8 graphs {sizes} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
