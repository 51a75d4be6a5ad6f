"""One video frame enhanced by the full model and by fast mode, side by side (full left, fast right), with
a 1:1 crop of each below (bottom left), for looking at detail and noise.

    python -m benchmarks fast_frame_pair [VIDEO] --frame 30 \
        --out docs/images/fast-vs-full-video.jpg

VIDEO defaults to video/sample_no.mp4 of the shared data ($LOWLIGHT_SHARED_DATA, else ../shared/data).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.paths import add_video_argument
from lowlight_cli.inference.enhancer import Enhancer
from lowlight_cli.io.images import ImageMeta, write_image


def main() -> None:
    import av
    import cv2

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_video_argument(ap)
    ap.add_argument("--frame", type=int, default=30)
    ap.add_argument("-w", "--weights", default="official")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    with av.open(str(args.video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == args.frame:
                rgb = frame.to_ndarray(format="rgb24").astype(np.float32) / 255.0
                break
    full = Enhancer(args.weights, device="cpu", backend="onnx").enhance(rgb).image
    fast = Enhancer(args.weights, device="cpu", backend="onnx", fast=True).enhance(rgb).image
    h, w = rgb.shape[:2]
    half = lambda x: cv2.resize(x, (w // 2, h // 2), interpolation=cv2.INTER_AREA)  # noqa: E731
    ch, cw = h // 4, w // 4
    cy, cx = h - ch - h // 8, 0  # 1:1 crop at the bottom left, where this clip has branches and a roofline
    crop = lambda x: x[cy : cy + ch, cx : cx + cw]  # noqa: E731
    top = np.concatenate([half(full), np.ones((h // 2, 4, 3), np.float32), half(fast)], 1)
    bottom = np.concatenate([crop(full), np.ones((ch, 4, 3), np.float32), crop(fast)], 1)
    bottom = np.pad(bottom, ((4, 0), (0, top.shape[1] - bottom.shape[1]), (0, 0)), constant_values=1.0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_image(args.out, np.concatenate([top, bottom], 0), ImageMeta("JPEG", 8, False), quality=90)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
