"""How a synthesized pair is stored and read back: the one writer and the one reader of a training pair.

A pair is six PNGs (`KINDS`): `high`, `low`, `low_clean` and `amplified` as 8-bit BGR, `attention` as 16-bit
grey, `noise` as 16-bit BGR (`targets.encode_noise`). They are stored either

- loose:  OUT/{train,test}/<kind>/<id>.png, one file each; or
- in WebDataset tar shards: OUT/{train,test}/[<prefix>]NNNNNN.tar, each pair as the members
  `<key>.<kind>.png` plus `<key>.json` (its record), consecutive, with `<key>` = the pair id without dots
  (WebDataset groups members by the part of the name before the first dot). Any WebDataset reader can
  stream these shards; the manifest line of a pair names its shard (`shard`), members (`files`) and
  where each member's bytes are (`spans`: [offset, size]), so a pair is read with one seek per image.

A shard appears under its final name only when complete (written to a temporary name, then renamed), and
the manifest lines of its pairs are appended only after that, so a killed run loses only the open shards.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lowlight_cli.io.atomic import atomic_path
from lowlight_cli.synth.pairs import KINDS, Pair


def encode_pair(pair: Pair) -> dict[str, bytes]:
    """The PNG bytes of each stored array of `pair`, in KINDS order."""
    import cv2

    from lowlight_cli.synth.targets import encode_noise

    blobs = {}
    for kind in KINDS:
        array = getattr(pair, kind)
        if kind == "noise":
            pixels = encode_noise(array)[..., ::-1]
        elif kind == "attention":
            pixels = np.round(array * 65535).astype(np.uint16)
        else:
            pixels = np.round(array * 255).astype(np.uint8)[..., ::-1]
        ok, png = cv2.imencode(".png", np.ascontiguousarray(pixels))
        if not ok:
            raise ValueError(f"cannot encode the {kind} image as PNG")
        blobs[kind] = png.tobytes()
    return blobs


def loose_files(split: str, pid: str) -> dict[str, str]:
    """Where each kind of a loose pair goes, relative to the synth folder."""
    return {kind: f"{split}/{kind}/{pid}.png" for kind in KINDS}


def write_loose(out: Path, files: dict[str, str], blobs: dict[str, bytes]) -> None:
    """Write a pair's files, each atomically."""
    for kind in KINDS:
        with atomic_path(out / files[kind]) as tmp:
            tmp.write_bytes(blobs[kind])


def read_stored(root: Path, record: dict, kind: str) -> np.ndarray:
    """One stored image of a pair, as stored (BGR, 8 or 16 bits; attention single-channel)."""
    import cv2

    if "shard" in record:
        data = _member(root / record["shard"], record["spans"][kind])
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        where = f"{root / record['shard']}:{record['files'][kind]}"
    else:
        where = str(root / record["files"][kind])
        pixels = cv2.imread(where, cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise OSError(f"cannot read {where}")
    return pixels


def read_pair(root: Path, record: dict) -> dict[str, np.ndarray]:
    """The six stored arrays of one manifest record as float32 HxWxC (attention HxW)."""
    from lowlight_cli.synth.targets import decode_noise

    arrays = {}
    for kind in KINDS:
        pixels = read_stored(root, record, kind)
        if kind == "attention":
            arrays[kind] = pixels.astype(np.float32) / 65535
        elif kind == "noise":
            arrays[kind] = decode_noise(pixels[..., ::-1])
        else:
            arrays[kind] = pixels[..., ::-1].astype(np.float32) / 255
    return arrays


def _member(shard: Path, span: list[int]) -> bytes:
    """The bytes of one shard member at [offset, size] (from the manifest: no tar index to scan)."""
    offset, size = span
    with open(shard, "rb") as f:
        f.seek(offset)
        data = f.read(size)
    if len(data) != size:
        raise OSError(f"{shard}: truncated at byte {offset + len(data)}")
    return data


class ShardWriter:
    """Pairs into tar shards of `size` pairs per split. `on_shard(records)` is called with the manifest
    records of a shard once it is complete under its final name (when full, or at `close`)."""

    def __init__(self, out: Path, size: int, prefix: str, on_shard: Callable[[list[dict]], None]) -> None:
        if size < 1:
            raise ValueError(f"pairs per shard must be at least 1, not {size}")
        self.out, self.size, self.prefix, self.on_shard = out, size, prefix, on_shard
        self._open: dict[str, tuple[object, tarfile.TarFile, str, list[dict]]] = {}

    def _next_name(self, split: str) -> str:
        taken = [p.name[len(self.prefix) : -4] for p in (self.out / split).glob(f"{self.prefix}*.tar")]
        number = max((int(t) for t in taken if t.isdigit()), default=0) + 1
        return f"{split}/{self.prefix}{number:06d}.tar"

    def add(self, record: dict, blobs: dict[str, bytes]) -> None:
        """Append a pair (its record gets `shard` and `files`); the shard closes when it holds `size` pairs."""
        split = record["split"]
        if split not in self._open:
            name = self._next_name(split)
            context = atomic_path(self.out / name)
            tmp = context.__enter__()
            self._open[split] = (context, tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT), name, [])
        _, tar, name, records = self._open[split]
        key = record["id"].replace(".", "_")
        record["shard"] = name
        record["files"] = {kind: f"{key}.{kind}.png" for kind in KINDS}
        meta = {k: record[k] for k in ("source", "id", "split", "size", "params") if k in record}
        record["spans"] = {}
        for kind, member, data in [
            *((k, record["files"][k], blobs[k]) for k in KINDS),
            (None, f"{key}.json", _json(meta)),
        ]:
            info = tarfile.TarInfo(member)
            info.size, info.mode, info.mtime = len(data), 0o644, 0  # fixed metadata: same pairs, same bytes
            header = len(info.tobuf(tar.format, tar.encoding, tar.errors))
            if kind:
                record["spans"][kind] = [tar.offset + header, len(data)]
            tar.addfile(info, io.BytesIO(data))
        records.append(record)
        if len(records) >= self.size:
            self._close(split)

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
