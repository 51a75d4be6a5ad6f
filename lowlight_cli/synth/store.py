"""How training pairs are stored and read back: the one writer and the one reader of a training pair.

A pair travels as a `PairRecord`; its images are read with `read_pair`, whatever holds them:

- a `lowlight synth` folder: six PNGs per pair (`KINDS`): `high`, `low`, `low_clean` and `amplified` as 8-bit
  RGB, `attention` as 16-bit grey, `noise` as 16-bit RGB (`targets.encode_noise`), indexed by the manifest
  (`synth.manifest`), whose lines are `PairRecord.to_json`. They are stored either
  - loose:  OUT/{train,test}/<kind>/<id>.png, one file each; or
  - in WebDataset tar shards: OUT/{train,test}/[<prefix>]NNNNNN.tar, each pair as the members
    `<key>.<kind>.png` plus `<key>.json` (its record), consecutive, with `<key>` = the pair id without dots
    (WebDataset groups members by the part of the name before the first dot). Any WebDataset reader can
    stream these shards; the manifest line of a pair names its shard (`shard`), members (`files`) and
    where each member's bytes are (`spans`: [offset, size]), so a pair is read with one seek per image.
- a folder of real photographed pairs (LOL layout): same-named photos in `low/` and `high/`, any format and
  bit depth `io.images` reads; a fixed hash of each name assigns it to `train` or `test` (`real_split`).

`iter_pairs(folder, split)` lists the pairs of either kind of folder; `lowlight train` and `lowlight eval`
read pairs only through it and `read_pair`. PNG bytes are made and decoded by `io.images` (`encode_png`,
`decode_samples`), photos read by `io.images.read_rgb`: the package's one image decoder.

A shard appears under its final name only when complete (written to a temporary name, then renamed), and
the manifest lines of its pairs are appended only after that, so a killed run loses only the open shards.
"""

from __future__ import annotations

import io
import json
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lowlight_cli.errors import LowlightError
from lowlight_cli.io.atomic import atomic_path
from lowlight_cli.synth.pairs import KINDS, Pair

REAL_KINDS = ("low", "high")
"""The images of a real pair; the other targets are computed from them (`training.data.RealPairs`)."""
REAL_TEST_EVERY = 5
"""About one real pair in REAL_TEST_EVERY is held out as `test`, chosen by a hash of its file name."""


@dataclass(frozen=True)
class PairRecord:
    """One stored training pair: where its images are, and what the synthesis drew for it."""

    name: str
    """The pair's id in a synth folder (its manifest `id`); the file name of a real pair."""
    split: str
    """`train` or `test`."""
    files: dict[str, str]
    """Kind -> its image: a path relative to the folder, or the member's name inside `shard`."""
    shard: str | None = None
    """The tar shard that holds the pair (relative to the folder); None for loose files."""
    spans: dict[str, tuple[int, int]] | None = None
    """Kind -> (offset, size) of its member's bytes in `shard`."""
    source: str | None = None
    """The normal-light photo the pair was made from (its `rel` in the synth source)."""
    size: tuple[int, int] | None = None
    """(width, height)."""
    params: dict[str, Any] = field(default_factory=dict)
    """The synthesis parameters drawn for the pair (`pairs.sample_params`)."""
    metrics: dict[str, float] = field(default_factory=dict)
    """The candidate-selection metrics of its source photo."""
    real: bool = False
    """A photographed pair (LOL layout): `files` are photos (`REAL_KINDS`), not stored PNGs."""

    def to_json(self) -> dict[str, Any]:
        """The pair's manifest line (`status` "pair"); real pairs have none."""
        if self.real:
            raise ValueError(f"{self.name}: a real pair has no manifest line")
        line: dict[str, Any] = {
            "source": self.source,
            "status": "pair",
            "id": self.name,
            "split": self.split,
            "size": list(self.size) if self.size else None,
            "params": self.params,
            "metrics": self.metrics,
            "files": dict(self.files),
        }
        if self.shard is not None:
            line["shard"] = self.shard
            line["spans"] = {kind: list(span) for kind, span in (self.spans or {}).items()}
        return line

    @classmethod
    def from_json(cls, line: dict[str, Any]) -> PairRecord:
        """The record of a manifest line."""
        spans = line.get("spans")
        size = line.get("size")
        return cls(
            name=line["id"],
            split=line["split"],
            files=dict(line["files"]),
            shard=line.get("shard"),
            spans={kind: (int(s[0]), int(s[1])) for kind, s in spans.items()} if spans is not None else None,
            source=line.get("source"),
            size=(int(size[0]), int(size[1])) if size else None,
            params=line.get("params") or {},
            metrics=line.get("metrics") or {},
        )


def pair_layout(root: Path) -> Literal["real", "synth"] | None:
    """What `root` holds: real pairs (`low/` and `high/` folders), a synth folder (its settings.json or a
    manifest), or neither (None)."""
    root = Path(root)
    if (root / "low").is_dir() and (root / "high").is_dir():
        return "real"
    if (root / "settings.json").is_file() or any(root.glob("manifest*.jsonl")):
        return "synth"
    return None


def iter_pairs(root: str | Path, split: str | None = None) -> Iterator[PairRecord]:
    """The pairs of a folder of real pairs or of a synth folder (loose files or tar shards), all of them or
    one `split` (`train`, `test`; None or `all`: every pair), in a fixed order: a real folder's by file name,
    a synth folder's in manifest order. A folder that is neither holds no pairs."""
    from lowlight_cli.synth.manifest import load_pairs

    root = Path(root)
    split = None if split == "all" else split
    layout = pair_layout(root)
    if layout == "real":
        for name in real_pair_names(root, split or "all"):
            files = {kind: f"{kind}/{name}" for kind in REAL_KINDS}
            yield PairRecord(name=name, split=real_split(name), files=files, real=True)
    elif layout == "synth":
        for line in load_pairs(root):
            if split is None or line["split"] == split:
                yield PairRecord.from_json(line)


def real_split(name: str) -> str:
    """`test` or `train` for a real pair, from its file name alone (stable when pairs are added)."""
    return "test" if zlib.crc32(name.encode()) % REAL_TEST_EVERY == 0 else "train"


def real_pair_names(root: Path, split: str = "all") -> list[str]:
    """The image names of `root/low` (hidden files skipped), of one split (`train`, `test`) or `all`;
    every one must have its twin in `root/high`."""
    names = sorted(p.name for p in (root / "low").iterdir() if p.is_file() and not p.name.startswith("."))
    unpaired = [n for n in names if not (root / "high" / n).is_file()]
    if unpaired:
        raise LowlightError(f"{root}: no high/ image for {unpaired[:3]}")
    return names if split == "all" else [n for n in names if real_split(n) == split]


def encode_pair(pair: Pair) -> dict[str, bytes]:
    """The PNG bytes of each stored array of `pair`, in KINDS order."""
    from lowlight_cli.io.images import encode_png
    from lowlight_cli.synth.targets import encode_noise

    blobs = {}
    for kind in KINDS:
        array = getattr(pair, kind)
        if kind == "noise":
            samples = encode_noise(array)
        elif kind == "attention":
            samples = np.round(array * 65535).astype(np.uint16)
        else:
            samples = np.round(array * 255).astype(np.uint8)
        blobs[kind] = encode_png(samples)
    return blobs


def loose_files(split: str, pid: str) -> dict[str, str]:
    """Where each kind of a loose pair goes, relative to the synth folder."""
    return {kind: f"{split}/{kind}/{pid}.png" for kind in KINDS}


def write_loose(out: Path, record: PairRecord, blobs: dict[str, bytes]) -> None:
    """Write a pair's files where `record.files` says, each atomically."""
    for kind in KINDS:
        with atomic_path(out / record.files[kind]) as tmp:
            tmp.write_bytes(blobs[kind])


def files_exist(root: Path, record: PairRecord) -> bool:
    """Whether a pair's images are in place: its tar shard, or its loose files."""
    if record.shard is not None:
        return (root / record.shard).is_file()
    return all((root / rel).is_file() for rel in record.files.values())


def read_stored(root: Path, record: PairRecord, kind: str) -> np.ndarray:
    """One stored image of a synth pair, as stored: RGB samples, 8 or 16 bits (attention HxW, 16 bits).

    Raises FileError naming the file (the shard and member for a pair in a tar shard)."""
    from lowlight_cli.io.images import decode_samples, read_samples

    if record.real:
        raise ValueError(f"{root / record.files[kind]}: a photo of a real pair, not a stored image")
    if record.shard is None:
        return read_samples(root / record.files[kind])
    shard = root / record.shard
    if record.spans is None or kind not in record.spans:
        raise LowlightError(f"{shard}: the manifest line of {record.name} has no byte range for {kind}")
    return decode_samples(_member(shard, record.spans[kind]), f"{shard}:{record.files[kind]}")


def read_pair(
    root: str | Path, record: PairRecord, kinds: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """Images of one pair as float32 HxWx3 RGB in [0, 1] (attention HxW; noise signed): `kinds` of it, by
    default all it has (KINDS for a synth pair, REAL_KINDS for a real one, whose photos `io.images.read_rgb`
    reads at their own bit depth)."""
    from lowlight_cli.synth.targets import decode_noise

    root = Path(root)
    have = REAL_KINDS if record.real else KINDS
    kinds = tuple(have if kinds is None else kinds)
    missing = [k for k in kinds if k not in have]
    if missing:
        where = "a real pair (low/, high/)" if record.real else "a synth pair"
        raise ValueError(f"{root}: {record.name} is {where}, it has no {', '.join(missing)} image")
    if record.real:
        from lowlight_cli.io.images import read_rgb

        return {kind: read_rgb(root / record.files[kind]) for kind in kinds}
    arrays = {}
    for kind in kinds:
        samples = read_stored(root, record, kind)
        if kind == "attention":
            arrays[kind] = samples.astype(np.float32) / 65535
        elif kind == "noise":
            arrays[kind] = decode_noise(samples)
        else:
            arrays[kind] = samples.astype(np.float32) / 255
    return arrays


def _member(shard: Path, span: tuple[int, int]) -> bytes:
    """The bytes of one shard member at [offset, size] (from the manifest: no tar index to scan)."""
    from lowlight_cli.errors import file_error

    offset, size = span
    try:
        with open(shard, "rb") as f:
            f.seek(offset)
            data = f.read(size)
    except OSError as exc:
        raise file_error(shard, exc, "cannot read") from None
    if len(data) != size:
        from lowlight_cli.errors import FileError

        raise FileError(shard, f"truncated at byte {offset + len(data)}")
    return data


class ShardWriter:
    """Pairs into tar shards of `size` pairs per split. `on_shard(records)` is called with the records of a
    shard (their `shard`, `files` and `spans` set) once it is complete under its final name (when full, or at
    `close`)."""

    def __init__(
        self, out: Path, size: int, prefix: str, on_shard: Callable[[list[PairRecord]], None]
    ) -> None:
        if size < 1:
            raise ValueError(f"pairs per shard must be at least 1, not {size}")
        self.out, self.size, self.prefix, self.on_shard = out, size, prefix, on_shard
        self._open: dict[str, tuple[Any, tarfile.TarFile, str, list[PairRecord]]] = {}

    def _next_name(self, split: str) -> str:
        taken = [p.name[len(self.prefix) : -4] for p in (self.out / split).glob(f"{self.prefix}*.tar")]
        number = max((int(t) for t in taken if t.isdigit()), default=0) + 1
        return f"{split}/{self.prefix}{number:06d}.tar"

    def add(self, record: PairRecord, blobs: dict[str, bytes]) -> PairRecord:
        """Append a pair; the shard closes when it holds `size` pairs. Returns the record as the shard holds
        it (`shard`, member `files` and their `spans`)."""
        split = record.split
        if split not in self._open:
            name = self._next_name(split)
            context = atomic_path(self.out / name)
            tmp = context.__enter__()
            self._open[split] = (context, tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT), name, [])
        _, tar, name, records = self._open[split]
        key = record.name.replace(".", "_")
        files = {kind: f"{key}.{kind}.png" for kind in KINDS}
        line = record.to_json()
        meta = {k: line[k] for k in ("source", "id", "split", "size", "params")}
        spans: dict[str, tuple[int, int]] = {}
        for kind, member, data in [
            *((k, files[k], blobs[k]) for k in KINDS),
            (None, f"{key}.json", _json(meta)),
        ]:
            info = tarfile.TarInfo(member)
            info.size, info.mode, info.mtime = len(data), 0o644, 0  # fixed metadata: same pairs, same bytes
            header = len(info.tobuf(tar.format, tar.encoding, tar.errors))
            if kind:
                spans[kind] = (tar.offset + header, len(data))
            tar.addfile(info, io.BytesIO(data))
        record = replace(record, shard=name, files=files, spans=spans)
        records.append(record)
        if len(records) >= self.size:
            self._close(split)
        return record

    def _close(self, split: str, error: BaseException | None = None) -> None:
        context, tar, _, records = self._open.pop(split)
        tar.close()
        if error is None:
            context.__exit__(None, None, None)  # renamed into place
            self.on_shard(records)
        else:
            context.__exit__(type(error), error, error.__traceback__)  # the partial shard is deleted

    def close(self, error: BaseException | None = None) -> None:
        """Finish every open shard, or with `error` (an interrupted run) discard them."""
        for split in sorted(self._open):
            self._close(split, error)


def _json(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
