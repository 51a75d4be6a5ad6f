"""How much colour the synthetic camera noise adds to a dark low image once it is brightened.

For the dark pairs synthesized from a sample of the look training photos (each resized to 256 px wide),
with and without `noise_debias`: the low image and its clean version are brightened by the same gamma
(the one that takes the clean low image to a mean of 0.45) and the mean per-channel difference is taken
in 8-bit levels. A difference that is not the same in every channel is a cast the network would learn to
remove from every dark photo. Writes docs/results/noise_bias.csv.

    python scripts/noise_bias.py [--photos data/look/photos/train] [--every 5]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    import cv2

    from lowlight_cli.colour import lab
    from lowlight_cli.io.images import read_image
    from lowlight_cli.synth.pairs import synthesize
    from lowlight_cli.synth.settings import SynthSettings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, default=ROOT / "data" / "look" / "photos" / "train")
    ap.add_argument("--every", type=int, default=5, help="use every Nth photo")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "noise_bias.csv")
    args = ap.parse_args()
    files = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})[:: args.every]
    rows = []
    for debias in (False, True):
        rng = np.random.default_rng(0)
        settings = SynthSettings(cast_share=0.0, noise_debias=debias)
        diffs, shifts = [], []
        for f in files:
            photo = read_image(f)[0].astype(np.float32)
            photo = cv2.resize(photo, (256, round(256 * photo.shape[0] / photo.shape[1])), interpolation=cv2.INTER_AREA)
            pair = synthesize(photo, rng, settings, quantize=True, amplify=False)
            if pair.params["exposure"] != "dark":
                continue
            g = np.log(0.45) / np.log(max(float(pair.low_clean.mean()), 1e-4))
            noisy, clean = (np.clip(x, 1e-6, 1) ** g for x in (pair.low, pair.low_clean))
            diffs.append((noisy - clean).reshape(-1, 3).mean(0) * 255)
            blur = lambda x: cv2.GaussianBlur(x, (0, 0), 4)  # noqa: E731  the local colour, not the noise grain
            shifts.append((lab(blur(noisy)) - lab(blur(clean)))[..., 1:].reshape(-1, 2).mean(0))
        d, s = np.mean(diffs, 0), np.mean(shifts, 0)
        rows.append({"noise_debias": debias, "pairs": len(diffs), "d_r": float(d[0]), "d_g": float(d[1]), "d_b": float(d[2]),
                     "cast_levels": float(d.max() - d.min()), "delta_a": float(s[0]), "delta_b": float(s[1])})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: f"{v:.3f}" if isinstance(v, float) else v for k, v in r.items()})
    print(open(args.out).read(), end="")


if __name__ == "__main__":
    main()
