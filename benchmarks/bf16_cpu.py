"""bf16 through PyTorch on this CPU: speed and accuracy of the whole network against fp32.

Two ways: the model cast to bfloat16, and fp32 weights under torch.autocast("cpu", bfloat16). Without
AVX-512 BF16 / AMX the CPU has no bf16 arithmetic and oneDNN emulates it, so the CPU flags are recorded too.

    python -m benchmarks bf16_cpu --size 768x512 --out docs/results/speed/bf16-cpu.json
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import torch

from lowlight_cli.inference.precision import cpu_flags
from lowlight_cli.speed.cases import test_image
from lowlight_cli.speed.report import hardware
from lowlight_cli.weights.model_io import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-w", "--weights", default="official")
    ap.add_argument("--size", default="768x512", help="WxH, multiples of 128")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    w, h = (int(v) for v in args.size.split("x"))
    model = load_model(args.weights).eval()
    x = torch.from_numpy(test_image(w, h).transpose(2, 0, 1)[None].copy())
    bf16_model = copy.deepcopy(model).to(torch.bfloat16)

    def run(kind: str) -> torch.Tensor:
        with torch.inference_mode():
            if kind == "fp32":
                return model(x).reinforced
            if kind == "bf16 (cast)":
                return bf16_model(x.to(torch.bfloat16)).reinforced.float()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return model(x).reinforced.float()

    rows, ref = {}, None
    for kind in ("fp32", "bf16 (cast)", "bf16 (autocast)"):
        run(kind)  # warm-up
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            out = run(kind)
            times.append(time.perf_counter() - start)
        out = out.clamp(0, 1).numpy()
        ref = out if ref is None else ref
        mse = float(np.mean((out.astype(np.float64) - ref) ** 2))
        rows[kind] = {
            "seconds": float(np.median(times)),
            "psnr_vs_fp32_db": float(10 * np.log10(1 / mse)) if mse else None,
        }
        print(kind, rows[kind], flush=True)
    for kind in rows:
        rows[kind]["speed_vs_fp32"] = rows["fp32"]["seconds"] / rows[kind]["seconds"]
    flags = sorted(
        f for f in cpu_flags() if "avx512" in f or "amx" in f or "vnni" in f or f in ("avx2", "fma")
    )
    result = {
        "weights": args.weights,
        "size": f"{w}x{h}",
        "torch": torch.__version__,
        "hardware": hardware(),
        "cpu_flags": flags,
        "onednn_bf16_isa": bool({"avx512_bf16", "amx_bf16"} & set(flags)),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
