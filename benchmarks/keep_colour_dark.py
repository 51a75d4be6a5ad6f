"""`--keep-colour` in the darkest parts of real dark and night photos.

    python -m benchmarks keep_colour_dark [--shared ../shared/data] [--weights agllnet-look-5] [--side 640]
        [--out docs/results/keep-colour/dark-quartile.csv] [--sheet reports/keep-colour/sheet.png]

Per photo of `real_dark/` and `night_scenes/` (scaled to `--side`), over the darkest quartile of its pixels
(by the input's luma): the mean CIELAB a*, b* of the input brightened by one gamma to the result's mean luma
(the colour reference of the look metrics), of the network's result and of the result with `--keep-colour`,
and each one's colour shift against the reference. The contact sheet (input by that gamma | network |
keep-colour) is not committed: the night photos' terms forbid redistribution.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from benchmarks.paths import RESULTS, ROOT, SHARED, SHARED_HELP

COLUMNS = (
    "image",
    "input_codes",
    "gamma_a",
    "gamma_b",
    "net_a",
    "net_b",
    "keep_a",
    "keep_b",
    "net_shift",
    "keep_shift",
)


def main() -> None:
    import cv2

    from lowlight_cli.colour import LUMA, gamma_to_mean, lab, mean_luma
    from lowlight_cli.inference.controls import keep_colour
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.io.images import read_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help=SHARED_HELP)
    parser.add_argument("--weights", default="agllnet-look-5")
    parser.add_argument("--side", type=int, default=640)
    parser.add_argument("--out", type=Path, default=RESULTS / "keep-colour" / "dark-quartile.csv")
    parser.add_argument("--sheet", type=Path, default=ROOT / "reports" / "keep-colour" / "sheet.png")
    args = parser.parse_args()
    files = sorted((args.shared / "real_dark").glob("*.png")) + sorted(
        (args.shared / "night_scenes").glob("*.jpg")
    )
    enhancer = Enhancer(args.weights, backend="onnx", device="cpu")
    rows, sheet = [], []
    for path in files:
        rgb = read_image(path)[0]
        h, w = rgb.shape[:2]
        scale = args.side / max(h, w)
        rgb = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        out = enhancer.enhance(rgb).image
        kept = keep_colour(rgb, out)
        ref = gamma_to_mean(rgb, mean_luma(out))
        y = rgb @ LUMA
        dark = y <= np.quantile(y, 0.25)
        dark_ab = {
            name: lab(img)[..., 1:][dark] for name, img in (("gamma", ref), ("net", out), ("keep", kept))
        }
        ab = {name: values.mean(0) for name, values in dark_ab.items()}
        row = {
            "image": f"{path.parent.name}/{path.name}",
            "input_codes": f"{float(y[dark].mean() * 255):.2f}",
        }
        for name in ("gamma", "net", "keep"):
            row[f"{name}_a"], row[f"{name}_b"] = (f"{v:.2f}" for v in ab[name])
        for name in ("net", "keep"):
            row[f"{name}_shift"] = f"{float(np.hypot(*(dark_ab[name] - dark_ab['gamma']).T).mean()):.2f}"
        rows.append(row)
        sheet.append(np.concatenate([ref, out, kept], 1))
        print(", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    from PIL import Image

    width = max(s.shape[1] for s in sheet)
    grid = np.concatenate([np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0))) for s in sheet], 0)
    args.sheet.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.clip(grid, 0, 1) * 255).astype(np.uint8)).save(args.sheet)


if __name__ == "__main__":
    main()
