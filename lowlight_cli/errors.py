"""Error types. Each names the file it is about, so a batch can report it in one line."""

from __future__ import annotations

from pathlib import Path


class LowlightError(Exception):
    """A user-facing failure: printed as one line, never as a traceback."""


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
