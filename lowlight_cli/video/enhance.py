"""`enhance_video`: decode thread -> batched inference -> encode thread, joined by bounded queues.

Decoding and encoding (FFmpeg, which releases the GIL) overlap with inference (torch, which does too),
and the queues bound memory to a few batches of frames. The output is written under a temporary
name and renamed at the end, so an interrupted or failed run leaves nothing under the final name.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lowlight_cli.colour import mean_luma_709
from lowlight_cli.errors import FileError, LowlightError
from lowlight_cli.video import codecs
from lowlight_cli.video.probe import VideoInfo, probe
from lowlight_cli.video.reader import SourceFrame, read
from lowlight_cli.video.temporal import TemporalSmoother, flicker

if TYPE_CHECKING:  # the enhancer's module loads when a video is enhanced
    from lowlight_cli.inference.enhancer import Enhancer, Fitted

MAX_BATCH = 8
KEYFRAME_INTERVAL = 2
"""Fast mode runs the network on every KEYFRAME_INTERVAL-th frame and at every scene cut; each frame between
takes its keyframe's guided-filter coefficients (a local tone map of luma), applied to its own full-size luma,
so edges and motion stay the frame's own (docs/performance.md, "fast mode for video")."""
QUEUE_BATCHES = 2
"""Batches each queue may hold: enough to keep the model busy while a batch is decoded or encoded."""
DIVIDER = 2
"""Width in pixels of the white line between the halves of a --side-by-side frame."""
_END = object()


@dataclass(frozen=True)
class VideoOptions:
    codec: str | None = None
    crf: int | None = None
    preset: str | None = None
    pix_fmt: str | None = None
    start: float | None = None
    end: float | None = None
    side_by_side: bool = False
    temporal_smooth: bool = True
    fast: bool = False
    """Fast mode (`Enhancer(fast=True)`): the codec's fast preset unless `preset` is given."""
    keyframe_interval: int = KEYFRAME_INTERVAL
    """Fast mode only: the network runs on every n-th frame (1 = every frame)."""


@dataclass
class VideoReport:
    frames: int = 0
    seconds: float = 0.0
    scene_cuts: int = 0
    luma_in: list[float] = field(default_factory=list)
    luma_out: list[float] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    @property
    def flicker_in(self) -> float:
        return flicker(self.luma_in)

    @property
    def flicker_out(self) -> float:
        return flicker(self.luma_out)


@dataclass(frozen=True)
class VideoJob:
    """A checked request: everything that can be wrong with the input or the options fails here,
    before the model loads."""

    source: Path
    output: Path
    info: VideoInfo
    settings: codecs.EncodeSettings
    options: VideoOptions


def plan(source: str | Path, output: str | Path, options: VideoOptions, overwrite: bool = False) -> VideoJob:
    source, output = Path(source), Path(output)
    if output.is_dir():
        raise FileError(
            output,
            f"is a folder; give the output file's name, e.g. {output / (source.stem + '_enhanced.mp4')}",
        )
    if output.exists() and source.exists() and output.resolve() == source.resolve():
        raise FileError(output, "is the input; choose another output name (the input is never overwritten)")
    info = probe(source)
    if output.exists() and not overwrite:
        raise FileError(output, "exists; replace it with `overwrite`")
    if options.start is not None and options.end is not None and options.end <= options.start:
        raise LowlightError(f"end {options.end} must be after start {options.start}", param="end")
    if options.keyframe_interval < 1:
        raise LowlightError(
            f"keyframe_interval {options.keyframe_interval}: must be 1 or more", param="keyframe_interval"
        )
    settings = codecs.resolve(
        info.codec,
        info.pix_fmt,
        info.width,
        info.height,
        options.codec,
        options.crf,
        options.preset,
        options.pix_fmt,
        options.fast,
    )
    job = VideoJob(source, output, info, settings, options)
    _try_writer(job)
    return job


def _try_writer(job: VideoJob) -> None:
    """Open (and discard) the output beside its final name: proves the folder is writable and that the
    container takes the codec and every copied stream, before minutes of inference."""
    import os
    import tempfile

    from lowlight_cli.errors import file_error
    from lowlight_cli.io.atomic import check_writable_dir
    from lowlight_cli.video.writer import VideoWriter
    from lowlight_cli.weights.registry import check_not_bundled

    check_not_bundled(job.output)
    check_writable_dir(job.output.parent)
    try:
        job.output.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{job.output.stem}.", suffix=f".check{job.output.suffix}", dir=job.output.parent
        )
        os.close(fd)
    except OSError as exc:
        raise file_error(job.output, exc) from None
    try:
        VideoWriter(Path(name), job.info, job.settings, job.source).abort()
    except FileError as exc:  # named after the probe file; the user knows the output's name
        raise FileError(job.output, exc.reason.replace(name, str(job.output))) from None
    finally:
        os.unlink(name)


def batch_size(enhancer: Enhancer, height: int, width: int) -> int:
    """Frames per model call: as many as fit the same memory budget the tiler uses for one image."""
    from lowlight_cli.inference.enhancer import TILE_BUDGET_PIXELS

    budget = TILE_BUDGET_PIXELS.get(enhancer.backend.device_type, TILE_BUDGET_PIXELS["cpu"])
    return max(1, min(MAX_BATCH, budget // (height * width)))


def side_by_side(source: np.ndarray, enhanced: np.ndarray) -> np.ndarray:
    """Same-size split screen: the source's left half, the enhanced right half, a thin white divider."""
    out = enhanced.copy()
    half = out.shape[1] // 2
    out[:, :half] = source[:, :half]
    out[:, max(0, half - DIVIDER // 2) : half + (DIVIDER + 1) // 2] = 1.0
    return out


def enhance_video(
    enhancer: Enhancer,
    job: VideoJob,
    on_frames: Callable[[int], None] | None = None,
) -> VideoReport:
    """Enhance `job.source` into `job.output`; `on_frames(n)` reports the frames finished so far."""
    from lowlight_cli.io.atomic import atomic_path
    from lowlight_cli.video.writer import VideoWriter

    info, options = job.info, job.options
    n = batch_size(enhancer, info.height, info.width)
    smoother = TemporalSmoother() if options.temporal_smooth else None
    keyframes = _Keyframes(options.keyframe_interval)
    report = VideoReport()
    stop = threading.Event()
    frames_in: queue.Queue = queue.Queue(maxsize=QUEUE_BATCHES * n)
    frames_out: queue.Queue = queue.Queue(maxsize=QUEUE_BATCHES * n)
    began = time.perf_counter()
    try:
        with atomic_path(job.output) as tmp:
            writer = VideoWriter(tmp, info, job.settings, job.source)
            decoder = _Worker(_decode, job, frames_in, stop)
            encoder = _Worker(_encode, writer, frames_out, stop)
            try:
                batch: list[SourceFrame] = []
                while True:
                    item = _get(frames_in, decoder)
                    if isinstance(item, SourceFrame):
                        batch.append(item)
                    elif item is not _END:
                        _put(frames_out, item, encoder)
                    if len(batch) == n or (item is _END and batch):
                        _enhance_batch(
                            enhancer,
                            batch,
                            smoother,
                            options.side_by_side,
                            report,
                            frames_out,
                            encoder,
                            keyframes,
                        )
                        batch = []
                        if on_frames:
                            on_frames(report.frames)
                    if item is _END:
                        break
                _put(frames_out, _END, encoder)
                encoder.join()
                encoder.check()
            finally:
                stop.set()
                decoder.join(timeout=5)
                encoder.join(timeout=5)
    except OSError as exc:
        raise FileError(job.output, f"cannot write: {exc.strerror or exc}") from None
    report.seconds = time.perf_counter() - began
    report.scene_cuts = smoother.cuts if smoother else 0
    return report


@dataclass
class _Keyframes:
    """Fast mode's reuse of one network result over the next `interval - 1` frames (unused in full mode)."""

    interval: int
    count: int = 0
    """Frames since the last keyframe (0: none yet)."""
    coefficients: Fitted | None = None
    """The last keyframe's fit (`Enhancer.fast_fit`); the first frame is always a keyframe."""

    def due(self, cut: bool) -> bool:
        """Whether the next frame must be a keyframe (the first, every `interval`-th, or a scene cut)."""
        due = cut or self.count % self.interval == 0
        self.count = 1 if due else self.count + 1
        return due


def _enhance_batch(
    enhancer: Enhancer,
    batch: list[SourceFrame],
    smoother: TemporalSmoother | None,
    split: bool,
    report: VideoReport,
    out: queue.Queue,
    encoder: _Worker,
    keyframes: _Keyframes,
) -> None:
    """Attention per frame (smoothed over time), then the local stages for the whole batch in one pass,
    then each frame's brightening gain smoothed over time. In fast mode all of this but the last step
    happens on the small copies, and only keyframes go through the network."""
    from lowlight_cli.inference.guided_upsampling import downscale

    h, w = batch[0].rgb.shape[:2]
    size = enhancer.fast_size(h, w)
    sources = [downscale(f.rgb, size) for f in batch] if size else [f.rgb for f in batch]
    maps, due = [], []
    for f, source in zip(batch, sources, strict=True):
        a = enhancer.attention(source)
        maps.append(smoother.update(source, a, f.time) if smoother else a)
        if size:
            due.append(keyframes.due(smoother is not None and smoother.cut))
    if size:
        keys = [i for i, d in enumerate(due) if d]
        fitted = iter(
            enhancer.fast_fit(np.stack([sources[i] for i in keys]), np.stack([maps[i] for i in keys]))[0]
            if keys
            else ()
        )
        images = []
        for f, d in zip(batch, due, strict=True):
            if d:
                keyframes.coefficients = next(fitted)
            assert keyframes.coefficients is not None, "the first frame of a video is a keyframe"
            images.append(enhancer.carry(f.rgb, keyframes.coefficients))
    else:
        images = [r.image for r in enhancer.enhance_batch(np.stack(sources), np.stack(maps))]
    for f, image in zip(batch, images, strict=True):
        image = smoother.steady(f.rgb, image) if smoother else image
        image = enhancer.controls.apply(f.rgb, image)
        image = side_by_side(f.rgb, image) if split else image
        report.luma_in.append(mean_luma_709(f.rgb))
        report.luma_out.append(mean_luma_709(image))
        _put(out, (image, f.pts, f.duration), encoder)
        report.frames += 1


class _Worker(threading.Thread):
    """A pipeline stage thread whose exception is re-raised in the main thread."""

    def __init__(self, target, arg, q: queue.Queue, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.error: BaseException | None = None
        self._run = lambda: target(arg, q, stop)
        self.start()

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # handed to the main thread
            self.error = exc

    def check(self) -> None:
        if self.error is not None:
            raise self.error


def _decode(job: VideoJob, q: queue.Queue, stop: threading.Event) -> None:
    for item in read(job.source, job.info, job.options.start, job.options.end):
        if not _offer(q, item, stop):
            return
    _offer(q, _END, stop)


def _encode(writer, q: queue.Queue, stop: threading.Event) -> None:
    finished = False
    try:
        while not stop.is_set():
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _END:
                writer.close()
                finished = True
                return
            if isinstance(item, tuple):
                writer.write(*item)
            else:
                writer.copy(item)
    finally:
        if not finished:
            writer.abort()


def _offer(q: queue.Queue, item, stop: threading.Event) -> bool:
    """Put unless the pipeline is stopping (so a blocked stage never outlives an interrupted run)."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, producer: _Worker):
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            producer.check()
            if not producer.is_alive() and q.empty():
                raise LowlightError("the decoder stopped without finishing") from None


def _put(q: queue.Queue, item, consumer: _Worker) -> None:
    while True:
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            consumer.check()
            if not consumer.is_alive():
                raise LowlightError("the encoder stopped without finishing") from None
