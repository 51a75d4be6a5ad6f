"""The model, loaded and warmed once, and the workers that share it.

On the CPU a capped thread pool (`--workers`, at least 1, default min(2, cores)) runs tasks side by side; on a
GPU one worker runs them in order. Either way a task waits in one FIFO whose position is reported, and at most
`max_queue` tasks may wait: beyond that a request is refused (503) instead of holding its upload in memory.
Memory is bounded by the workers, not by the requests: a photo is decoded only once a worker takes it.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from lowlight_cli.inference.controls import Controls
from lowlight_cli.serve.settings import ServeSettings

if TYPE_CHECKING:  # the enhancer's module (and its backend) loads in `load`
    from lowlight_cli.inference.enhancer import Enhancer

WARMUP_SIDE = 256
"""Side of the grey square enhanced once at start-up, so the first user request pays no set-up cost."""


class Busy(Exception):
    """The wait queue is full."""


class Engine:
    """One Enhancer (neutral controls: the network's raw result) and its worker pool."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.enhancer: Enhancer | None = None
        self.ready = False
        self.error: str | None = None
        self.load_seconds = 0.0
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._waiting: list[int] = []
        self._listeners: dict[int, Callable[[int], None] | None] = {}
        self._ids = itertools.count(1)
        self.workers = 0

    def load(self) -> None:
        """Load the weights and warm the backend up (called from the server's lifespan)."""
        from lowlight_cli.inference.enhancer import Enhancer

        began = time.perf_counter()
        s = self.settings
        self.enhancer = Enhancer(
            s.weights,
            device=s.device,
            tile=s.tile,
            backend=s.backend,
            precision=s.precision,
            fast=s.fast,
            gate=s.gate,
        )
        self.workers = s.worker_count(self.enhancer.backend.device_type)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="lowlight-worker")
        if s.warmup:
            self.enhancer.enhance(np.full((WARMUP_SIDE, WARMUP_SIDE, 3), 0.2, np.float32))
        self.load_seconds = time.perf_counter() - began
        self.ready = True

    def close(self) -> None:
        if self._pool:
            self._pool.shutdown(wait=True, cancel_futures=True)

    @property
    def description(self) -> str:
        return self.enhancer.backend.description if self.enhancer else "loading"

    @property
    def device_type(self) -> str:
        return self.enhancer.backend.device_type if self.enhancer else "cpu"

    @property
    def loaded(self) -> Enhancer:
        """The shared Enhancer; RuntimeError before `load` has made it (requests wait for `ready`)."""
        if self.enhancer is None:
            raise RuntimeError("the model is not loaded yet")
        return self.enhancer

    def with_controls(self, controls: Controls) -> Enhancer:
        """The shared Enhancer (same backend) with other controls, for the video pipeline."""
        enhancer = copy.copy(self.loaded)
        enhancer.controls = controls
        return enhancer

    # --- the queue -----------------------------------------------------------------------------------
    def submit(
        self, fn: Callable[..., Any], *args, on_position: Callable[[int], None] | None = None
    ) -> Future:
        """Run `fn(*args)` on a worker, first come first served. `on_position(n)` hears the task's place in
        the wait queue (1 = next) whenever it changes, and 0 when a worker starts it. Raises Busy when
        `max_queue` tasks already wait."""
        ticket = next(self._ids)
        with self._lock:
            if len(self._waiting) >= self.settings.max_queue:
                raise Busy(
                    f"the server is busy: {len(self._waiting)} tasks are waiting (--max-queue); "
                    "try again later"
                )
            self._waiting.append(ticket)
            self._listeners[ticket] = on_position
            position = len(self._waiting)
        if on_position:
            on_position(position)

        def run():
            with self._lock:
                self._waiting.remove(ticket)
                self._listeners.pop(ticket, None)
                moved = [
                    (self._listeners[t], i + 1) for i, t in enumerate(self._waiting) if self._listeners.get(t)
                ]
            for listener, place in moved:
                listener(place)
            if on_position:
                on_position(0)
            return fn(*args)

        if self._pool is None:
            raise RuntimeError("the model is not loaded yet")
        return self._pool.submit(run)

    def queue_length(self) -> int:
        with self._lock:
            return len(self._waiting)
