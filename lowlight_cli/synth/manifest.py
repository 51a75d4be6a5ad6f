"""The on-disk layout of a synth run and its JSON Lines journals.

    OUT/settings.json                      the SynthSettings the folder was made with
    OUT/manifest[.shard-K-of-N].jsonl      one line per finished pair (`synth.store.PairRecord.to_json`)
    OUT/skipped[.shard-K-of-N].jsonl       one line per rejected or failed source
    OUT/{train,test}/{high,low,low_clean,attention,noise,amplified}/<id>.png   loose pairs, or
    OUT/{train,test}/[shard-K-of-N-]NNNNNN.tar              WebDataset shards (`--tar`, see synth/store.py)

A pair counts as finished once its manifest line exists, and that line is appended only after all six
files were renamed into place, so a killed run loses only the pairs in flight.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from lowlight_cli.io.atomic import atomic_path

Shard = tuple[int, int]
"""(K, N) with 1 <= K <= N: this run handles the K-th of N disjoint parts of the source."""


def journal_paths(out: Path, shard: Shard | None) -> tuple[Path, Path]:
    tag = f".shard-{shard[0]}-of-{shard[1]}" if shard else ""
    return out / f"manifest{tag}.jsonl", out / f"skipped{tag}.jsonl"


def read_jsonl(path: Path) -> Iterator[dict]:
    """Records of a journal; a torn last line (the writer was killed mid-line) is ignored."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def dumps(record: dict) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"


def rewrite_jsonl(path: Path, records: Iterable[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.writelines(dumps(r) for r in records)


def append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(dumps(record))


def load_pairs(out: Path) -> list[dict]:
    """The manifest lines of a synth folder: `manifest.jsonl`, or all shard manifests before a merge. Training
    and eval read pairs as `synth.store.PairRecord`s, through `synth.store.iter_pairs`."""
    path = out / "manifest.jsonl"
    paths = [path] if path.exists() else sorted(out.glob("manifest.shard-*.jsonl"))
    return [r for p in paths for r in read_jsonl(p)]


def merge(out: Path) -> tuple[int, int]:
    """Join every shard journal (and an existing merged one) into manifest.jsonl and skipped.jsonl,
    one line per source, sorted by source. Returns (pairs, skipped)."""
    counts = []
    for stem in ("manifest", "skipped"):
        by_source: dict[str, dict] = {}
        for path in [out / f"{stem}.jsonl", *sorted(out.glob(f"{stem}.shard-*.jsonl"))]:
            for record in read_jsonl(path):
                by_source[record["source"]] = record
        rewrite_jsonl(out / f"{stem}.jsonl", (by_source[k] for k in sorted(by_source)))
        counts.append(len(by_source))
    return counts[0], counts[1]
