"""Connect to Ray and map a file list over an actor pool with Ray Data.

Each row carries its index and a pickled work item; each actor builds its handler once (for `enhance`, one
loaded Enhancer per actor) and returns the pickled result, so the rows stay two plain columns whatever the
results hold (nested records, bytes).
"""

from __future__ import annotations

import logging
import math
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lowlight_cli.errors import LowlightError
from lowlight_cli.extras import require

ROWS_PER_BLOCK = 2
"""Small blocks: the actors share the work finely, and a killed run loses little (images are slow rows)."""
MAX_BLOCKS = 20_000


@dataclass(frozen=True)
class Resources:
    """The actor pool: `actors` actors (None: as many as the cluster's CPUs, or GPUs, allow), each
    reserving `cpus` CPUs and `gpus` GPUs."""

    actors: int | None = None
    cpus: float = 1.0
    gpus: float = 0.0

    def __post_init__(self) -> None:
        if self.actors is not None and self.actors < 1:
            raise LowlightError(f"actors {self.actors}: must be at least 1", param="actors")
        if self.cpus < 0 or self.gpus < 0 or self.cpus + self.gpus == 0:
            raise LowlightError(
                f"cpus {self.cpus:g}: an actor needs some CPU or GPU (gpus {self.gpus:g})", param="cpus"
            )


def connect(address: str | None) -> None:
    """Join the Ray cluster at `address` (`auto`: the one this machine belongs to; `local`: start one here;
    HOST:PORT or ray://HOST:PORT), unless this process is already connected."""
    require("ray", "ray", param="ray")
    import ray

    if ray.is_initialized():
        return
    try:
        ray.init(address=address, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=True)
    except Exception as exc:  # noqa: BLE001 - Ray raises plain Exception too (a node that did not start)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LowlightError(f"cannot start or reach the Ray cluster at {address!r}: {first}") from None


def pool_size(resources: Resources) -> int:
    """The number of actors: as asked, or what the cluster's CPUs (GPUs when asked for) hold."""
    import ray

    if resources.actors:
        return resources.actors
    total = ray.cluster_resources()
    fits = [total.get("CPU", 0) / resources.cpus] if resources.cpus else []
    fits += [total.get("GPU", 0) / resources.gpus] if resources.gpus else []
    count = int(min(fits))
    if count < 1:
        raise LowlightError(
            f"the Ray cluster ({total.get('CPU', 0):g} CPUs, {total.get('GPU', 0):g} GPUs) "
            f"has no room for one actor of {resources.cpus:g} CPUs and {resources.gpus:g} GPUs"
        )
    return count


def describe(resources: Resources) -> str:
    import ray

    total = ray.cluster_resources()
    nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
    return (
        f"Ray cluster: {nodes} node{'s' * (nodes != 1)}, {total.get('CPU', 0):g} CPUs, "
        f"{total.get('GPU', 0):g} GPUs; {pool_size(resources)} actors of {resources.cpus:g} CPU, "
        f"{resources.gpus:g} GPU"
    )


class _Actor:
    """One member of the pool: builds its handler once, then handles rows."""

    def __init__(self, factory: Callable[..., Callable[[Any], Any]], kwargs: dict) -> None:
        self.handle = factory(**kwargs)

    def __call__(self, row: dict) -> dict:
        return {"index": row["index"], "result": pickle.dumps(self.handle(pickle.loads(row["item"])))}


def map_items(
    items: Sequence[Any],
    factory: Callable[..., Callable[[Any], Any]],
    kwargs: dict,
    resources: Resources,
    preserve_order: bool = False,
) -> Iterator[tuple[int, Any]]:
    """Yield (index, handler(item)) for every item, as the actors finish them (in item order with
    `preserve_order`). `factory(**kwargs)` runs once per actor and returns the handler."""
    import ray
    import ray.data

    if not items:
        return
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the CLI draws its own
    context.execution_options.preserve_order = preserve_order
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # its notes, not errors
    rows = [{"index": i, "item": pickle.dumps(item)} for i, item in enumerate(items)]
    blocks = min(MAX_BLOCKS, math.ceil(len(rows) / ROWS_PER_BLOCK))
    dataset = ray.data.from_items(rows, override_num_blocks=blocks).map(
        _Actor,  # type: ignore[arg-type]  # a callable class (the actor form): Ray's hints name functions only
        fn_constructor_args=(factory, kwargs),
        compute=ray.data.ActorPoolStrategy(size=min(pool_size(resources), len(rows))),
        num_cpus=resources.cpus,
        num_gpus=resources.gpus or None,
    )
    try:
        for row in dataset.iter_rows():
            yield int(row["index"]), pickle.loads(row["result"])
    except ray.exceptions.RayError as exc:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        raise LowlightError(f"the Ray run failed: {lines[-1] if lines else type(exc).__name__}") from exc
