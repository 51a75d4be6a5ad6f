"""Jobs: a batch of photos or one video, worked on in the background, followed over Server-Sent Events.

A job lives in its own folder under the server's work folder, with server-made names only
(`item-001.upload`, `item-001.raw.npy`, `item-001.out.mp4`); the client's file name is kept only as a
label. Each photo is one task in the engine's queue (so a batch uses every worker); a video is one task.
Progress is an event per tile (photos) or per batch of frames (video); `cancel()` stops a job at the next
tile or frame boundary, and photos not yet started never start.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lowlight_cli.errors import FileError, LowlightError
from lowlight_cli.inference.controls import Controls
from lowlight_cli.serve.engine import Engine

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
FINAL = ("done", "failed", "cancelled")


class Cancelled(Exception):
    """Raised from a progress callback to stop work between tiles or frames."""


@dataclass
class Item:
    index: int
    name: str
    """The client's file name: a label, never a path."""
    upload: Path
    status: str = "queued"
    error: str | None = None
    done: int = 0
    total: int = 0
    position: int = 0
    width: int = 0
    height: int = 0
    format: str = ""
    seconds: float = 0.0

    @property
    def raw(self) -> Path:
        return self.upload.with_name(f"item-{self.index:03d}.raw.npy")

    @property
    def video_out(self) -> Path:
        return self.upload.with_name(f"item-{self.index:03d}.out{Path(self.name).suffix.lower()}")

    def public(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "status": self.status,
            "error": self.error,
            "progress": [self.done, self.total],
            "position": self.position,
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Job:
    id: str
    kind: str
    folder: Path
    controls: Controls
    fmt: str | None
    quality: int | None
    items: list[Item] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    events: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _store: JobStore | None = None

    @property
    def status(self) -> str:
        states = {i.status for i in self.items}
        if self.cancel_event.is_set() and states <= set(FINAL):
            return "cancelled"
        if states <= set(FINAL):
            return "failed" if states == {"failed"} else "done"
        return "running" if states & {"running", "done", "failed"} else "queued"

    @property
    def finished(self) -> bool:
        return all(i.status in FINAL for i in self.items)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "items": [i.public() for i in self.items],
            "controls": {
                "strength": self.controls.strength,
                "exposure": _exposure_text(self.controls),
                "keep_colour": self.controls.keep_colour,
                "denoise": self.controls.denoise,
            },
            "format": self.fmt,
            "quality": self.quality,
        }

    def emit(self, event: dict) -> None:
        with self._lock:
            self.events.append(event)
        if self._store:
            self._store.wake(self)


def _exposure_text(controls: Controls) -> str | None:
    e = controls.exposure
    if e is None:
        return None
    return "auto" if e.auto else f"{e.ev:+g}ev" if e.ev is not None else f"{e.target:g}"


class JobStore:
    """The jobs of one server, their folders and their wake-ups for event streams."""

    def __init__(self, root: Path, engine: Engine, max_jobs: int) -> None:
        self.root = root
        self.engine = engine
        self.max_jobs = max_jobs
        self.jobs: dict[str, Job] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._changed: dict[str, asyncio.Event] = {}

    # --- creation --------------------------------------------------------------------------------------
    def new(self, kind: str, controls: Controls, fmt: str | None, quality: int | None) -> Job:
        self._evict()
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir(parents=True)
        job = Job(job_id, kind, folder, controls, fmt, quality)
        job._store = self
        return job

    def add_item(self, job: Job, name: str) -> Item:
        name = Path(name.replace("\\", "/")).name or "photo"  # a label: the client's folders are none of ours
        item = Item(len(job.items) + 1, name, job.folder / f"item-{len(job.items) + 1:03d}.upload")
        job.items.append(item)
        return item

    def start(self, job: Job) -> None:
        """Register the job and queue its work (raises engine.Busy when the queue is full)."""
        self.jobs[job.id] = job
        try:
            for item in job.items:
                if item.status in FINAL:  # refused at upload time
                    continue
                work = self._video if job.kind == "video" else self._photo
                self.engine.submit(work, job, item, on_position=self._positioner(job, item))
        except Exception:
            job.cancel_event.set()
            for item in job.items:
                if item.status == "queued":
                    item.status = "cancelled"
            raise

    def _positioner(self, job: Job, item: Item):
        def report(position: int) -> None:
            item.position = position
            if position:
                job.emit({"type": "queued", "item": item.index, "position": position})

        return report

    # --- work (on an engine worker) ----------------------------------------------------------------------
    def _run(self, job: Job, item: Item, work, out_of_memory: str | None = None) -> None:
        """One item's life on an engine worker: started, `work()`, then done, cancelled or failed (one line).
        A MemoryError is a failure with the message `out_of_memory` when one is given."""
        if job.cancel_event.is_set():
            return self._finish(job, item, "cancelled")
        item.status = "running"
        job.emit({"type": "started", "item": item.index})
        began = time.perf_counter()
        try:
            work()
        except Cancelled:
            return self._finish(job, item, "cancelled")
        except LowlightError as exc:
            return self._finish(job, item, "failed", _one_line(exc, item))
        except MemoryError:
            if out_of_memory is None:
                raise
            return self._finish(job, item, "failed", out_of_memory)
        item.seconds = time.perf_counter() - began
        self._finish(job, item, "done")

    def _photo(self, job: Job, item: Item) -> None:
        from lowlight_cli.io.images import read_image

        def work() -> None:
            rgb, _ = read_image(item.upload)
            result = self.engine.loaded.enhance(rgb, progress=self._tile_progress(job, item))
            np.save(item.raw, result.image)

        self._run(job, item, work, f"{item.name}: out of memory; try a smaller photo or fewer workers")

    def _tile_progress(self, job: Job, item: Item):
        def report(done: int, total: int) -> None:
            item.done, item.total = done, total
            job.emit({"type": "progress", "item": item.index, "done": done, "total": total, "unit": "tile"})
            if job.cancel_event.is_set() and done < total:
                raise Cancelled

        def check_first() -> None:
            if job.cancel_event.is_set():
                raise Cancelled

        check_first()
        return report

    def _video(self, job: Job, item: Item) -> None:
        from lowlight_cli.video.enhance import VideoOptions, enhance_video, plan

        def work() -> None:
            video = plan(item.upload, item.video_out, VideoOptions(fast=self.engine.settings.fast))
            item.total = video.info.frames or 0
            item.width, item.height = video.info.width, video.info.height

            def on_frames(n: int) -> None:
                item.done = n
                job.emit(
                    {"type": "progress", "item": item.index, "done": n, "total": item.total, "unit": "frame"}
                )
                if job.cancel_event.is_set():
                    raise Cancelled

            enhance_video(self.engine.with_controls(job.controls), video, on_frames)

        self._run(job, item, work)

    def _finish(self, job: Job, item: Item, status: str, error: str | None = None) -> None:
        item.status, item.error, item.position = status, error, 0
        job.emit({"type": "item", "item": item.index, "status": status, "error": error})
        if job.finished:
            job.emit({"type": "job", "status": job.status})

    # --- control -------------------------------------------------------------------------------------
    def cancel(self, job: Job) -> None:
        job.cancel_event.set()
        for item in job.items:
            if item.status == "queued":  # its task will see the flag and stop at once
                item.position = 0
        job.emit({"type": "cancelling"})

    def delete(self, job: Job) -> None:
        self.jobs.pop(job.id, None)
        self._changed.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def _evict(self) -> None:
        done = sorted((j for j in self.jobs.values() if j.finished), key=lambda j: j.created)
        for job in done[: max(0, len(self.jobs) - self.max_jobs + 1)]:
            self.delete(job)

    def close(self) -> None:
        for job in list(self.jobs.values()):
            job.cancel_event.set()

    # --- event streams (on the event loop) --------------------------------------------------------------
    def wake(self, job: Job) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._set, job.id)

    def _set(self, job_id: str) -> None:
        old = self._changed.pop(job_id, None)
        if old:
            old.set()

    def changed(self, job: Job) -> asyncio.Event:
        """An event set at the job's next change (take it before reading the job's state)."""
        return self._changed.setdefault(job.id, asyncio.Event())


def _one_line(exc: LowlightError, item: Item) -> str:
    """The error with the server's file name replaced by the client's."""
    if isinstance(exc, FileError):
        return f"{item.name}: {exc.reason}"
    return f"{item.name}: {str(exc).replace(str(item.upload), item.name)}"
