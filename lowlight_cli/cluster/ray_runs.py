"""`synth` and batch `enhance` on a Ray cluster, writing exactly what the local runs write.

Both read their file list on the driver (resume: finished sources and existing outputs never reach the
cluster), map the rest over an actor pool (`runtime.map_items`), and hand each result to the local run's
bookkeeping: synth's `Journal` (manifest, skipped list, tar shards, summary) and enhance's `FileOutcome`s.
Every node must see the inputs and the output folder at the same paths (a shared or network file system),
and have lowlight installed with its extras.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from lowlight_cli.cluster.runtime import Resources, connect, map_items
from lowlight_cli.inference.files import FileOutcome, check_write_options, existing_output
from lowlight_cli.io.paths import InputItem, check_distinct_outputs, output_path
from lowlight_cli.synth.manifest import Shard, read_jsonl, rewrite_jsonl
from lowlight_cli.synth.pipeline import Journal, Summary, select_sources
from lowlight_cli.synth.settings import SynthSettings
from lowlight_cli.synth.sources import Source


def _synth_handler(out: Path, settings: SynthSettings, tar: bool) -> Callable[[Source], dict]:
    from lowlight_cli.synth.pipeline import _init_worker, process

    _init_worker()
    return lambda source: process(source, out, settings, tar)


def synth_ray(
    sources: Iterable[Source],
    out: Path,
    settings: SynthSettings,
    address: str | None = None,
    resources: Resources = Resources(),
    limit: int | None = None,
    shard: Shard | None = None,
    on_record: Callable[[dict, bool], None] | None = None,
    tar: int | None = None,
) -> Summary:
    """`synth.pipeline.run` on a Ray cluster: the same files, byte for byte, for the same seed.

    Records are journaled as the actors finish them, then the journals are put in source order, as the
    local run writes them. With `tar`, results arrive in source order (the one writer fills the shards in
    the local run's order, so the shards too are byte-identical); the actors still run ahead.
    """
    connect(address)
    journal = Journal(out, settings, shard, tar, on_record)
    chosen = list(select_sources(sources, shard, limit))
    todo = []
    for source in chosen:
        if source.rel in journal.done:
            journal.finish(journal.done[source.rel], True)
        else:
            todo.append(Source(source.rel, source.path.absolute()))
    handler = dict(out=out.absolute(), settings=settings, tar=tar is not None)
    try:
        for _, record in map_items(todo, _synth_handler, handler, resources, preserve_order=tar is not None):
            journal.finish(record, False)
    except BaseException as exc:
        journal.close(exc)
        raise
    journal.close()
    if tar is None:
        _source_order(journal, [s.rel for s in chosen])
    return journal.summary


def _source_order(journal: Journal, rels: list[str]) -> None:
    """Rewrite the journals with their lines in source order (sources of other runs last, as they were)."""
    rank = {rel: i for i, rel in enumerate(rels)}
    for path in (journal.manifest, journal.skipped):
        records = list(read_jsonl(path))
        order = sorted(range(len(records)), key=lambda i: (rank.get(records[i]["source"], len(rank)), i))
        rewrite_jsonl(path, (records[i] for i in order))


def _enhance_handler(
    enhancer: dict,
    out_dir: Path | None,
    suffix: str,
    fmt: str | None,
    quality: int | None,
    overwrite: bool,
    save_maps: bool,
) -> Callable[[InputItem], FileOutcome]:
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.files import enhance_one

    model = Enhancer(**enhancer)  # once per actor

    def handle(item: InputItem) -> FileOutcome:
        try:
            return enhance_one(model, item, out_dir, suffix, fmt, quality, overwrite, save_maps)
        except Exception as exc:  # one bad file must not end a cluster-sized batch
            return FileOutcome(item.path, None, "failed", f"{item.path}: {type(exc).__name__}: {exc}")

    return handle


def enhance_ray(
    items: list[InputItem],
    out_dir: Path | None,
    suffix: str,
    enhancer: dict[str, Any],
    fmt: str | None = None,
    quality: int | None = None,
    overwrite: bool = False,
    save_maps: bool = False,
    address: str | None = None,
    resources: Resources = Resources(),
) -> Iterator[FileOutcome]:
    """`inference.files.enhance_items` on a Ray cluster: one outcome per input (skipped ones first, then
    the others as the actors finish them), the same output files. `enhancer`: the keyword arguments of
    `Enhancer`, which each actor loads once. Two inputs that map to one output raise one LowlightError naming
    both at the call, before connecting (`io.paths.check_distinct_outputs`, as the local run)."""
    check_write_options(fmt, quality)
    check_distinct_outputs(items, out_dir, suffix, fmt, save_maps)
    return _enhance_ray(
        items, out_dir, suffix, enhancer, fmt, quality, overwrite, save_maps, address, resources
    )


def _enhance_ray(
    items, out_dir, suffix, enhancer, fmt, quality, overwrite, save_maps, address, resources
) -> Iterator[FileOutcome]:
    connect(address)
    todo: list[int] = []
    for index, item in enumerate(items):
        try:
            skipped = existing_output(item, out_dir, suffix, fmt, overwrite)
        except Exception:  # noqa: BLE001 - an actor reports it, exactly as the local run does
            skipped = None
        if skipped:
            yield skipped
        else:
            todo.append(index)
    remote = [InputItem(items[i].path.absolute(), items[i].rel) for i in todo]
    handler = dict(
        enhancer=enhancer,
        out_dir=out_dir.absolute() if out_dir else None,
        suffix=suffix,
        fmt=fmt,
        quality=quality,
        overwrite=overwrite,
        save_maps=save_maps,
    )
    for position, outcome in map_items(remote, _enhance_handler, handler, resources):
        item = items[todo[position]]
        output = output_path(item, out_dir, suffix, fmt) if outcome.output else None  # as the user named it
        error = outcome.error.replace(str(remote[position].path), str(item.path)) if outcome.error else None
        yield dataclasses.replace(outcome, source=item.path, output=output, error=error)
