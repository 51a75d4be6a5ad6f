"""Decode the video stream to RGB frames and hand every other stream's packets on untouched.

Timing is never re-derived: each frame keeps its own pts and duration (VFR phone video stays in
sync). With `start`, all streams are shifted by the same amount so the section starts at zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lowlight_cli.errors import FileError
from lowlight_cli.video.codecs import bit_depth
from lowlight_cli.video.probe import VideoInfo, open_input, video_stream

if TYPE_CHECKING:  # PyAV loads on first use (the video extra)
    import av

TRUNCATION_TOLERANCE = 0.02
"""Fraction of the stated frame count that may be missing before a file counts as truncated
(edit lists legitimately hide a few samples)."""


@dataclass
class SourceFrame:
    rgb: np.ndarray
    """HxWx3 float32 in [0, 1], in the source's own colour space."""
    pts: int
    """In the video stream's time base, already shifted by `start`."""
    duration: int
    time: float
    """Seconds from the start of the output."""


@dataclass
class SourcePacket:
    """An audio/subtitle packet to copy; the stream index is taken now,
    the input closes before it is muxed."""

    stream_index: int
    packet: av.Packet


Item = SourceFrame | SourcePacket


def read(path: Path, info: VideoInfo, start: float | None = None, end: float | None = None) -> Iterator[Item]:
    """Yield decoded frames and non-video packets in file order; raise FileError on a damaged file."""
    import av

    with open_input(path) as container:
        stream = video_stream(container, path)
        time_base = stream.time_base
        if time_base is None:
            raise FileError(path, "the video stream has no time base")
        copied = [s for s in container.streams if s.type in ("audio", "subtitle")]
        shift = start or 0.0
        if start:
            container.seek(int(start / time_base), stream=stream, backward=True)
        video_done = False
        done_streams: set[int] = set()
        frames = 0
        last_pts, last_duration = 0, 0
        try:
            for packet in container.demux([stream, *copied]):
                if packet.stream is stream:
                    if video_done:
                        continue
                    for frame in stream.decode(packet):
                        pts = frame.pts if frame.pts is not None else last_pts + last_duration
                        t = float(pts * time_base)
                        last_pts, last_duration = pts, frame.duration or last_duration
                        if start is not None and t < start - 1e-6:
                            continue
                        if end is not None and t >= end - 1e-6:
                            video_done = True
                            break
                        frames += 1
                        yield SourceFrame(
                            _to_rgb(frame), pts - round(shift / time_base), frame.duration, t - shift
                        )
                elif packet.dts is not None and packet.pts is not None:
                    t = float(packet.pts * packet.time_base)
                    if end is not None and t >= end:
                        done_streams.add(packet.stream.index)
                    elif start is None or t >= start:
                        packet.pts -= round(shift / packet.time_base)
                        packet.dts -= round(shift / packet.time_base)
                        yield SourcePacket(packet.stream.index, packet)
                if video_done and len(done_streams) == len(copied):
                    break
        except av.error.FFmpegError as exc:
            raise FileError(path, f"damaged or truncated after {frames} frames: {exc}") from None
        if (
            start is None
            and end is None
            and info.frames
            and frames < info.frames * (1 - TRUNCATION_TOLERANCE)
        ):
            raise FileError(
                path, f"truncated: only {frames} of the {info.frames} frames it lists can be decoded"
            )
        if frames == 0:
            raise FileError(path, "no frames in the requested section")


def _to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """RGB float in the frame's own matrix and range (swscale honours both), 16-bit path for >8-bit video."""
    deep = bit_depth(frame.format.name) > 8
    arr = frame.to_ndarray(format="rgb48le" if deep else "rgb24", src_color_range=frame.color_range)
    return np.multiply(
        arr, np.float32(1 / (65535 if deep else 255)), dtype=np.float32
    )  # one pass, no uint8->float copy
