"""The README and benchmark pictures, made with the bundled weights.

    python -m benchmarks readme_images [--shared ../shared/data]

docs/images/before_after.jpg     the authors' sample: input | attention map | default weights
docs/images/look-comparison.png  input | gamma | official | agllnet-look-5 | agllnet-look-5 --keep-colour on
                                 the authors' sample, two well-exposed held-out COCO-CC photos and two of
                                 them darkened with noise (synth-noisy); the photos' Flickr licences are
                                 printed for the caption, read from the shared data ($LOWLIGHT_SHARED_DATA,
                                 else ../shared/data).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from benchmarks.paths import ROOT, SHARED, SHARED_HELP

SAMPLE = ROOT / "tests" / "data" / "official" / "sample_5047.jpg"
LOOK = ROOT / "data" / "look"
WELL_EXPOSED = ("000000022705.jpg", "000000067534.jpg")
"""Held-out COCO-CC test photos shown as they are (do-no-harm) ..."""
DARK = ("000000000785", "000000040036")
"""... and held-out photos from the noisy synthetic test set (their dark, noisy low image)."""
METHODS = {
    "gamma": "baseline:gamma",
    "official": "official",
    "agllnet-look-5": "agllnet-look-5",
    "agllnet-look-5 --keep-colour": "agllnet-look-5:keep-colour",
}
"""Column label -> the look benchmark's method spec."""
HEIGHT = 220


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help=SHARED_HELP)
    args = parser.parse_args()

    from benchmarks.look_benchmark import method  # the benchmark's own builder: same method, same result
    from lowlight_cli.evaluation.sheet import contact_sheet, thumbnail
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.io.heatmap import heatmap
    from lowlight_cli.io.images import ImageMeta, read_image, write_image
    from lowlight_cli.weights.registry import DEFAULT_WEIGHTS

    sample, _ = read_image(SAMPLE)
    result = Enhancer(DEFAULT_WEIGHTS).enhance(sample)
    strip = np.concatenate([sample, heatmap(result.attention).astype(np.float32) / 255, result.image], axis=1)
    write_image(
        ROOT / "docs" / "images" / "before_after.jpg",
        strip,
        ImageMeta(format="JPEG", bit_depth=8, gray=False),
    )

    inputs = [sample] + [read_image(LOOK / "photos" / "test" / name)[0] for name in WELL_EXPOSED]
    inputs += [
        read_image(next((LOOK / "synth-noisy-test" / "test" / "low").glob(f"{stem}-*.png")))[0]
        for stem in DARK
    ]
    methods = {label: method(spec, threads=0) for label, spec in METHODS.items()}
    rows = [
        [thumbnail(x, HEIGHT)] + [thumbnail(np.clip(m(x), 0, 1), HEIGHT) for m in methods.values()]
        for x in inputs
    ]
    contact_sheet(rows, ("input", *methods), ROOT / "docs" / "images" / "look-comparison.png")

    with open(args.shared / "normal" / "coco_val2017_cc" / "manifest.csv", newline="") as f:
        licences = {r["file"]: r for r in csv.DictReader(f)}
    for name in (*WELL_EXPOSED, *(f"{s}.jpg" for s in DARK)):
        r = licences[name]
        print(f"{name}: {r['flickr_url']} ({r['license']}, {r['license_url']})")


if __name__ == "__main__":
    main()
