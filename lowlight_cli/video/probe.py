"""What a video file holds, read once up front so bad input fails before the model loads.

Rotation and colour tags are read from the first decoded frame: FFmpeg attaches the container's
display matrix (phone rotation) and the bitstream's colour description there, whatever the container.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, cast

from lowlight_cli.errors import FileError

if TYPE_CHECKING:  # PyAV loads on first use (the video extra)
    import av
    from av.sidedata.sidedata import SideDataContainer


@dataclass(frozen=True)
class ColorTags:
    """FFmpeg enum values (AVColorRange, AVColorPrimaries, AVColorTransferCharacteristic, AVColorSpace)."""

    range: int
    primaries: int
    trc: int
    space: int


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    codec: str
    pix_fmt: str
    time_base: Fraction
    rate: Fraction | None
    """Average frame rate, for encoder rate control only; timing comes from each frame's pts."""
    frames: int | None
    """Frame count stated by the container; None when it does not say (MKV, WebM, streams)."""
    duration: float | None
    """Seconds of the video stream (or the container), None when unknown."""
    colors: ColorTags
    display_matrix: tuple[int, ...] | None
    """The 3x3 int32 display matrix (rotation, flips), copied verbatim to the output."""
    other_streams: tuple[str, ...]
    """`type:codec` of every non-video stream, for the summary line."""

    @property
    def rotation(self) -> int:
        """Counter-clockwise degrees the player rotates the picture by (0 without a display matrix)."""
        import math

        if not self.display_matrix:
            return 0
        a, b = self.display_matrix[0], self.display_matrix[1]
        return round(-math.degrees(math.atan2(b, a)))

    def expected_frames(self, start: float | None = None, end: float | None = None) -> int | None:
        """Frames to process, for the progress bar: stated or estimated from duration x rate;
        None if unknown."""
        if start is None and end is None and self.frames:
            return self.frames
        if self.duration is None or not self.rate:
            return None
        span = min(end if end is not None else self.duration, self.duration) - (start or 0.0)
        return max(0, round(span * float(self.rate)))


@contextmanager
def open_input(path: Path) -> Iterator[av.container.InputContainer]:
    """Open a media file, turning FFmpeg's errors into one-line FileErrors that name it."""
    import av

    if not path.is_file():
        raise FileError(path, "no such file")
    try:
        container = av.open(str(path), "r", metadata_errors="replace")  # damaged tags must not stop a decode
    except av.error.FFmpegError as exc:
        raise FileError(
            path, f"not a readable video (truncated or not a media file): {_reason(exc)}"
        ) from None
    try:
        if not container.streams.video:
            raise FileError(path, "no video stream")
        _refuse_still_image(container, path)
        yield container
    finally:
        container.close()


STILL_IMAGE_DEMUXERS = ("image2",)
"""FFmpeg demuxers of still images, with every `*_pipe` one (png_pipe, webp_pipe, tiff_pipe, jpeg_pipe for a
JPEG under another extension...). FFmpeg reads a photo as a one-frame video; `lowlight video` refuses it."""
_IMAGE_KINDS = {"mjpeg": "JPEG", "png": "PNG", "webp": "WebP", "tiff": "TIFF", "bmp": "BMP"}


def _refuse_still_image(container: av.container.InputContainer, path: Path) -> None:
    """A photo is not a video: one line naming it (until 2026-12 a JPEG with EXIF ended in exit 3,
    `unexpected ValueError: 31 is not a valid Type`, from PyAV's side-data enum)."""
    demuxer = container.format.name
    if demuxer in STILL_IMAGE_DEMUXERS or demuxer.endswith("_pipe"):
        ctx = container.streams.video[0].codec_context
        kind = _IMAGE_KINDS.get(ctx.name if ctx else "", (ctx.name if ctx else demuxer).upper())
        raise FileError(path, f"not a video: a still {kind} image; photos go through `lowlight enhance`")


def video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    """The main video stream (cover-art pictures are skipped), with a decoder that exists here."""
    import av

    streams = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
    if not streams:
        raise FileError(path, "no video stream (only a cover picture)")
    stream = streams[0]
    if stream.codec_context is None:
        raise FileError(path, "unsupported video codec (no decoder for it in PyAV's FFmpeg)")
    stream.thread_type = "AUTO"
    return stream


def probe(path: str | Path) -> VideoInfo:
    import av

    path = Path(path)
    with open_input(path) as container:
        stream = video_stream(container, path)
        try:
            first = next(container.decode(stream), None)
        except av.error.FFmpegError as exc:
            raise FileError(path, f"cannot decode the video stream: {_reason(exc)}") from None
        if first is None:
            raise FileError(path, "the video stream has no decodable frame (truncated or empty)")
        ctx = stream.codec_context
        time_base = stream.time_base
        if time_base is None:
            raise FileError(path, "the video stream has no time base")
        duration = (
            float(stream.duration * time_base)
            if stream.duration
            else container.duration / av.time_base
            if container.duration
            else None
        )
        others = tuple(
            f"{s.type}:{s.codec_context.name if s.codec_context else '?'}"
            for s in container.streams
            if s is not stream
        )
        return VideoInfo(
            width=first.width,
            height=first.height,
            codec=ctx.name,
            pix_fmt=first.format.name,
            time_base=time_base,
            rate=stream.average_rate or stream.guessed_rate,
            frames=stream.frames or None,
            duration=duration,
            colors=ColorTags(first.color_range, first.color_primaries, first.color_trc, first.colorspace),
            display_matrix=_display_matrix(first),
            other_streams=others,
        )


def _display_matrix(frame: av.VideoFrame) -> tuple[int, ...] | None:
    try:
        # PyAV's stub types `side_data` as a TypedDict; it is a SideDataContainer of SideData
        sides = list(cast("SideDataContainer", frame.side_data))
    except ValueError:  # a side-data type newer than PyAV's enum (FFmpeg 8's EXIF, 31): it lists none of them
        return _rotation_matrix(frame.rotation)
    for side in sides:
        if side.type.name == "DISPLAYMATRIX":
            return struct.unpack("=9i", bytes(side))
    return None


def _rotation_matrix(degrees: float) -> tuple[int, ...] | None:
    """The display matrix (16.16 fixed point, as FFmpeg's av_display_rotation_set) of a counter-clockwise
    rotation, None for none; a flip the original matrix held is lost (only its rotation is readable then)."""
    import math

    if not degrees:
        return None
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    fixed = lambda v: int(round(v * 65536))  # noqa: E731
    return (fixed(c), fixed(-s), 0, fixed(s), fixed(c), 0, 0, 0, 1 << 30)


def _reason(exc: Exception) -> str:
    """FFmpeg's message without the errno and file-name noise PyAV adds."""
    return getattr(exc, "strerror", None) or str(exc)
