"""Error types. Each names the file it is about, so a batch can report it in one line."""

from __future__ import annotations

import errno
from pathlib import Path


class LowlightError(Exception):
    """A user-facing failure: printed as one line, never as a traceback.

    `param` names the API parameter a bad argument was given for (`strength`, `tile`, `device`...); the
    message then starts with that name, in the API's terms ("strength 5 is out of range: ..."), and a front
    end puts its own name for it there (the CLI its flag, `--strength`: `lowlight_cli.cli.console.describe`).
    """

    def __init__(self, message: str = "", *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class FileError(LowlightError):
    """Something is wrong with one particular file (unreadable, corrupt, unwritable)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class WeightsError(LowlightError):
    """Weights that cannot be found, fetched, verified or matched to an architecture."""


class DeviceError(LowlightError):
    """A requested device or precision that this machine cannot provide."""


class DiskFullError(FileError):
    """No space left (or quota exhausted) while writing: a batch stops here rather than failing every file."""


OS_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a parent of this path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.ENAMETOOLONG: "file name too long",
    errno.EEXIST: "already exists",
    errno.ENOENT: "no such file or folder",
    errno.EIO: "input/output error (failing disk or lost network share?)",
}
"""errno -> the words of a one-line message; anything else uses the system's own text."""


def file_error(path: str | Path, exc: OSError, doing: str = "cannot write") -> FileError:
    """The project's one-line error for an OSError about `path` (DiskFullError for ENOSPC/EDQUOT)."""
    reason = (OS_REASONS.get(exc.errno) if exc.errno is not None else None) or exc.strerror or str(exc)
    if exc.errno == errno.ENOTDIR and exc.filename:
        blocker = _file_above(Path(exc.filename))
        if blocker is not None:
            path, reason = blocker, "is a file, not a folder"
    cls = DiskFullError if exc.errno in (errno.ENOSPC, errno.EDQUOT) else FileError
    return cls(path, f"{doing}: {reason}")


def _file_above(path: Path) -> Path | None:
    """The first existing non-folder among `path`'s parents (what makes a path 'not a directory')."""
    for parent in [path, *path.parents]:
        if parent.exists():
            return parent if not parent.is_dir() else None
    return None
