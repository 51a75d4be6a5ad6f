"""Fetch the official COCO archives: resumable (HTTP Range), verified (MD5), unpacked.

A partial download lives in `NAME.zip.part` beside its final name; the next call continues it with a
Range request. The archive is renamed to its final name only after its checksum matched.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lowlight_cli.errors import FileError, LowlightError

CHUNK = 1 << 20
TIMEOUT_S = 60


@dataclass(frozen=True)
class Archive:
    url: str
    md5: str


COCO_BASE = "http://images.cocodataset.org"
COCO = {
    # MD5s as published alongside the archives and used by torchvision/TFDS-style downloaders
    "val2017": Archive(f"{COCO_BASE}/zips/val2017.zip", "442b8da7639aecaf257c1dceb8ba8c80"),
    "train2017": Archive(f"{COCO_BASE}/zips/train2017.zip", "cced6f7f71b7629ddf16f17bbcfab6b2"),
    "annotations": Archive(
        f"{COCO_BASE}/annotations/annotations_trainval2017.zip", "f4bbac642086de4f52a3fdda2de5fa2c"
    ),
}

Progress = Callable[[int, int | None], None]
"""progress(bytes_done, bytes_total or None)"""


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(archive: Archive, dest: Path, progress: Progress | None = None) -> Path:
    """Download `archive` to `dest` (skipped when it is already there and verified)."""
    if dest.exists():
        return dest
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(archive.url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            if have and response.status != 206:  # server ignored the Range: start over
                have = 0
            length = response.headers.get("Content-Length")
            total = have + int(length) if length else None
            with open(part, "ab" if have else "wb") as f:
                while chunk := response.read(CHUNK):
                    f.write(chunk)
                    have += len(chunk)
                    if progress:
                        progress(have, total)
            if total is not None and have < total:  # read(n) returns b"" on a dropped connection
                raise ConnectionError(f"got {have} of {total} bytes")
    except urllib.error.HTTPError as exc:
        if exc.code != 416:  # 416: the partial file is already complete
            raise LowlightError(f"{archive.url}: HTTP {exc.code} {exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:  # connection lost, truncated body
        raise LowlightError(f"{archive.url}: download interrupted ({exc}); run again to resume") from None
    found = _md5(part)
    if found != archive.md5:
        part.unlink()
        raise FileError(
            dest, f"checksum mismatch (md5 {found}, expected {archive.md5}); partial file removed"
        )
    part.rename(dest)
    return dest


def unpack(zip_path: Path, root: Path) -> None:
    """Extract into `root`, skipping members already present with the right size (re-runs are cheap)."""
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            target = root / info.filename
            if info.is_dir() or (target.is_file() and target.stat().st_size == info.file_size):
                continue
            z.extract(info, root)


def download_coco(root: Path, parts: tuple[str, ...] = ("val2017", "annotations"), progress=None) -> Path:
    """Fetch and unpack COCO `parts` under `root`, giving the layout `--src coco` reads.

    `progress(name)` returns the per-archive byte callback, so a caller can show one bar per archive. An
    unknown part is a LowlightError naming `parts`, before anything is fetched.
    """
    unknown = sorted(set(parts) - set(COCO))
    if unknown:
        raise LowlightError(
            f"parts: unknown {', '.join(unknown)}; choose from {', '.join(COCO)}", param="parts"
        )
    for name in parts:
        archive = COCO[name]
        zip_path = fetch(
            archive, root / "zips" / Path(archive.url).name, progress(name) if progress else None
        )
        unpack(zip_path, root)
    return root
