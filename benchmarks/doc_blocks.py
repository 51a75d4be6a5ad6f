"""Generated blocks of the docs: the text between a start and an end marker, made from the result files."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.paths import ROOT


def replace(doc: Path, start: str, end: str, block: str, check: bool) -> bool:
    """Put `block` (which begins with `start` and ends with `end`) between the markers of `doc`, or with
    `check` only compare; True when the file was already up to date."""
    text = doc.read_text()
    if start not in text or end not in text:
        sys.exit(f"{doc}: no {start} ... {end} markers")
    new = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    if not check and new != text:
        doc.write_text(new)
        print(f"wrote {doc}")
    return new == text


def stale(doc: Path, generator: str) -> str:
    """The line `--check` gives for a file that is not what `generator` makes of the committed results."""
    name = doc.relative_to(ROOT) if doc.is_relative_to(ROOT) else doc
    return f"{name}: out of date; rerun python -m benchmarks {generator}"
