"""Atomic writes: a file appears under its final name complete, or not at all.

Every file the project writes goes through `atomic_path`, so this is also where filesystem faults become
the project's one-line errors: a read-only folder, a parent that is a file, a full disk (`DiskFullError`,
which stops a batch) are a `FileError` naming the final path, never an OSError traceback. The temporary
file is removed on any failure, Ctrl-C and SIGTERM included (the CLI turns SIGTERM into an interrupt), and
stale temporary files of a killed run (SIGKILL, power loss) are removed by the next write into that folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lowlight_cli.errors import DiskFullError, FileError, file_error

PART = ".part"
"""Marker of a temporary name: `.{stem}.{pid}-{random}.part{suffix}`."""
_PART_NAME = re.compile(r"^\.(?P<stem>.*)\.(?:(?P<pid>\d+)-)?[a-z0-9_]{8}\.part(?:\.[A-Za-z0-9]+)?$")
STALE_SECONDS = 60
"""A temporary file whose writer is gone (no such process here) and untouched this long is stale."""
STALE_SECONDS_NO_PID = 3600
"""Temporary names without a process id (older versions of lowlight) are stale after an hour untouched."""
MIN_FREE_BYTES = 64 * 1024
"""`check_writable_dir` calls a file system with less free space than this full."""
_swept: set[Path] = set()
_GUARDS: list[Callable[[Path], None]] = []


def guard_outputs(check: Callable[[Path], None]) -> None:
    """Register a check that refuses some output paths by raising; every `atomic_path` and
    `check_destinations` runs them all. Higher layers register theirs (`weights.registry` keeps the bundled
    weights read-only), so this layer needs to know nothing about them."""
    if check not in _GUARDS:
        _GUARDS.append(check)


def check_guarded(path: str | Path) -> None:
    """Raise when a registered guard (`guard_outputs`) refuses `path` as an output."""
    for check in _GUARDS:
        check(Path(path))


@contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it over `final` only if the block succeeds.

    The temporary name keeps the final suffix so writers that pick a format from the extension
    (Pillow, OpenCV, PyAV) still work. An interrupted or failed write leaves no partial file behind.
    An OSError (read-only, permission, not a folder, disk full) is raised as a FileError naming `final`;
    a path a registered guard refuses (`guard_outputs`: the bundled weights) is refused, whichever command
    asks.
    """
    final = Path(final)
    check_guarded(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(final.parent)
        fd, name = tempfile.mkstemp(
            prefix=f".{final.stem}.{os.getpid()}-", suffix=f"{PART}{final.suffix}", dir=final.parent
        )
        os.close(fd)
    except OSError as exc:
        raise file_error(final, exc) from None
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a normal file respects the user's umask
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if (
            exc.errno is None
        ):  # a library's own error that happens to subclass OSError (Pillow: "cannot write mode")
            raise
        raise file_error(final, exc) from None
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        if _disk_full(
            final.parent
        ):  # libraries that wrap ENOSPC in their own errors (torch.save, cv2.imwrite)
            raise DiskFullError(final, "cannot write: no space left on the device") from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_writable_dir(folder: str | Path) -> None:
    """Raise FileError unless files can be created in `folder` (which need not exist yet).

    Checked by creating and removing a file in the nearest existing folder, not by permission bits, which
    root ignores and which say nothing of read-only mounts or full disks. Creates no folder.
    """
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        if existing == folder:
            raise FileError(folder, "is a file, not a folder")
        raise FileError(folder, f"cannot write: {existing} is a file, not a folder")
    try:
        fd, name = tempfile.mkstemp(prefix=".lowlight-check.", suffix=PART, dir=existing)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise file_error(folder, exc) from None
    if _disk_full(existing):
        raise DiskFullError(
            folder,
            f"cannot write: no space left on the device ({shutil.disk_usage(existing).free} bytes free)",
        )


def remove_stale_parts(folder: Path) -> list[Path]:
    """Delete temporary files of our own naming in `folder` whose writer is gone
    (once per folder and process)."""
    key = folder.resolve()
    if key in _swept:
        return []
    _swept.add(key)
    removed = []
    now = time.time()
    for path in folder.glob(f".*{PART}*"):
        match = _PART_NAME.match(path.name)
        if not match or not path.is_file():
            continue
        pid = match.group("pid")
        try:
            age = now - path.stat().st_mtime
            stale = age > STALE_SECONDS and not _alive(int(pid)) if pid else age > STALE_SECONDS_NO_PID
            if stale:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # gone already, or a folder we may not write: never the reason a write fails
    return removed


def is_partial(path: Path) -> bool:
    """True for the temporary files `atomic_path` creates, so scanners can ignore leftovers."""
    return path.name.startswith(".") and PART in path.name


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _disk_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < MIN_FREE_BYTES
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
