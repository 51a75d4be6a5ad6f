"""Fast mode on 1080p video: frames/s end to end (decode, enhance, encode) for each network side and
keyframe interval, and how far the keyframe-reusing output is from running the network on every frame.

Each case runs `lowlight video --fast`'s pipeline on the first `--seconds` of the clip with the codec's fast
preset. The frames of each case are compared with those of the same side at keyframe interval 1 (PSNR on
the decoded outputs, so the encoder's own loss is in both); the source's frame-to-frame PSNR is given to
show how much the clip moves. Run on an otherwise idle machine:

    python -m benchmarks fast_video [VIDEO] --out docs/results/speed/fast-video.json

VIDEO defaults to video/sample_no.mp4 of the shared data ($LOWLIGHT_SHARED_DATA, else ../shared/data).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.paths import add_video_argument
from lowlight_cli.evaluation.metrics import psnr_images
from lowlight_cli.inference.enhancer import Enhancer
from lowlight_cli.video.enhance import VideoOptions, enhance_video, plan


def frames(path: Path, limit: int | None = None) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        out = []
        for f in c.decode(video=0):
            out.append(f.to_ndarray(format="rgb24").astype(np.float32) / 255)
            if limit and len(out) == limit:
                break
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_video_argument(ap)
    ap.add_argument("-w", "--weights", default="official")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--sides", default="384,256")
    ap.add_argument("--intervals", default="1,2,3")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for side in map(int, args.sides.split(",")):
            enhancer = Enhancer(args.weights, device="cpu", backend="onnx", fast=True, fast_side=side)
            reference = None
            for interval in map(int, args.intervals.split(",")):
                out = Path(tmp) / f"s{side}_k{interval}.mkv"
                job = plan(
                    args.video, out, VideoOptions(end=args.seconds, fast=True, keyframe_interval=interval)
                )
                report = enhance_video(enhancer, job)
                decoded = frames(out)
                if interval == 1:
                    reference = decoded
                row = {
                    "side": side,
                    "keyframe_interval": interval,
                    "frames": report.frames,
                    "seconds": report.seconds,
                    "fps": report.fps,
                    "flicker_in": report.flicker_in,
                    "flicker_out": report.flicker_out,
                    "encoder": job.settings.speed_label,
                    "psnr_vs_every_frame": (
                        float(np.mean([psnr_images(a, b) for a, b in zip(decoded, reference, strict=False)]))
                        if reference is not None and interval != 1
                        else None
                    ),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
        source = frames(args.video, rows[0]["frames"])
    motion = float(np.mean([psnr_images(a, b) for a, b in zip(source[1:], source[:-1], strict=True)]))
    result = {
        "video": args.video.name,
        "size": f"{source[0].shape[1]}x{source[0].shape[0]}",
        "weights": args.weights,
        "source_frame_to_frame_psnr": motion,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
