"""Build the training photos and the evaluation sets of the look benchmark from the shared data.

    python -m benchmarks make_look_sets [--shared ../shared/data] [--out data/look]

--shared defaults to $LOWLIGHT_SHARED_DATA, else ../shared/data beside the checkout (benchmarks/paths.py).

Writes (symlinks to the shared photos, and two `lowlight synth` folders):
    photos/train/     photos the bundled default trains on: COCO-CC photos not held out, and BSDS500,
                      each passing the paper's darkness filter (so identity pairs are well exposed)
    photos/val/       held-out COCO-CC photos (sorted index % 7 == 1): validation during training
    photos/test/      held-out COCO-CC photos (sorted index % 7 == 0): never trained or validated on
    synth-val/        `lowlight synth` of photos/val with the default settings (all pair kinds)
    synth-noisy-test/ `lowlight synth` of photos/test, every pair dark (the paper's darkening) with camera
                      noise and no cast: the noisy synthetic test set
Kodak24, McMaster, the night scenes and the LOL pairs are read in place by benchmarks/look_benchmark.py.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from benchmarks.paths import SHARED, SHARED_HELP

HELD_OUT_EVERY = 7
"""COCO-CC photo k (in sorted order) is test when k % 7 == 0 and validation when k % 7 == 1."""


def link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.is_symlink():
        dst.symlink_to(src.resolve())


def synth_sets() -> dict:
    """name -> (photo split, SynthSettings) of the synthetic sets, which benchmarks/look_benchmark.py checks
    too."""
    from lowlight_cli.synth.settings import DEFAULTS

    no_filters = dict(darkness_filter=False, blur_filter=False, colour_filter=False, test_fraction=1.0)
    return {
        "synth-val": ("val", dataclasses.replace(DEFAULTS, **no_filters, seed=1)),
        "synth-noisy-test": (
            "test",
            dataclasses.replace(
                DEFAULTS, **no_filters, seed=2, identity_share=0.0, mild_share=0.0, cast_share=0.0
            ),
        ),
    }


def main() -> None:
    from lowlight_cli.io.images import read_rgb
    from lowlight_cli.synth.pipeline import run
    from lowlight_cli.synth.select import evaluate
    from lowlight_cli.synth.settings import DEFAULTS
    from lowlight_cli.synth.sources import folder_or_glob

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help=SHARED_HELP)
    parser.add_argument("--out", type=Path, default=Path("data/look"))
    args = parser.parse_args()
    normal, out = args.shared / "normal", args.out

    only_darkness = dataclasses.replace(DEFAULTS, blur_filter=False, colour_filter=False)
    kept = rejected = 0
    for k, photo in enumerate(sorted((normal / "coco_val2017_cc").glob("*.jpg"))):
        if k % HELD_OUT_EVERY in (0, 1):
            link(photo, out / "photos" / ("test" if k % HELD_OUT_EVERY == 0 else "val") / photo.name)
            continue
        if evaluate(read_rgb(photo), only_darkness).kept:
            link(photo, out / "photos" / "train" / f"coco__{photo.name}")
            kept += 1
        else:
            rejected += 1
    for photo in sorted((normal / "bsds500").glob("*.jpg")):
        if evaluate(read_rgb(photo), only_darkness).kept:
            link(photo, out / "photos" / "train" / f"bsds__{photo.name}")
            kept += 1
        else:
            rejected += 1
    print(f"train photos: {kept} kept, {rejected} failed the darkness filter")

    for name, (split, settings) in synth_sets().items():
        summary = run(folder_or_glob(str(out / "photos" / split)), out / name, settings, workers=0)
        print(f"{name}: {summary.written} written, {summary.resumed} already there, {summary.failed} failed")


if __name__ == "__main__":
    main()
