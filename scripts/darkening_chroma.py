"""How much colour the paper's darkening puts into a low image, against a real exposure drop.

    python scripts/darkening_chroma.py            # writes docs/results/darkening_chroma.csv

For 60 training photos (data/look/photos/train) and one (alpha, beta, gamma) each from the `dark` ranges, the mean
CIELAB chroma of the low image divided by that of the photo scaled to the same mean luma (what less light gives
under a power-law camera curve: every pixel's R:G:B ratios kept), for the paper's per-channel curve and for the
ratio-keeping one (`darken(..., keep_ratios=True)`, `synth.ratio_darkening_share`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from lowlight_cli.colour import lab, mean_chroma, mean_luma
    from lowlight_cli.io.images import read_image
    from lowlight_cli.synth.lowlight import darken
    from lowlight_cli.synth.settings import DEFAULTS

    rng = np.random.default_rng(0)
    rows = []
    for path in sorted((ROOT / "data" / "look" / "photos" / "train").glob("*.jpg"))[:60]:
        high = read_image(path)[0]
        a, b, g = (float(rng.uniform(*r)) for r in (DEFAULTS.alpha, DEFAULTS.beta, DEFAULTS.gamma))
        row = {"photo": path.name, "gamma": round(g, 3)}
        for name, keep in (("paper", False), ("ratios_kept", True)):
            low = darken(high, a, b, g, keep_ratios=keep)
            exposure_drop = high * (mean_luma(low) / mean_luma(high))
            row[f"chroma_ratio_{name}"] = round(mean_chroma(lab(low)) / max(mean_chroma(lab(exposure_drop)), 1e-6), 4)
        rows.append(row)
    out = ROOT / "docs" / "results" / "darkening_chroma.csv"
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for name in ("paper", "ratios_kept"):
        v = [r[f"chroma_ratio_{name}"] for r in rows]
        print(f"{name}: chroma / exposure drop's, median {np.median(v):.2f} (25-75 %: {np.percentile(v, 25):.2f}-"
              f"{np.percentile(v, 75):.2f}) over {len(v)} photos")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
