"""Where the benchmark generators read and write: the checkout, and the one setting for the shared data."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The checkout: docs/, docs/results/, data/look/ and reports/ are under it."""
RESULTS = ROOT / "docs" / "results"
"""The committed result files the docs cite and their tables are generated from."""
SHARED_ENV = "LOWLIGHT_SHARED_DATA"
SHARED = Path(os.environ.get(SHARED_ENV) or ROOT.parent / "shared" / "data")
"""The shared data sets (normal/, night_scenes/, real_dark/, lol_train/, video/, reference/):
$LOWLIGHT_SHARED_DATA, else ../shared/data beside the checkout. A generator that reads them takes `--shared`
to override it."""
SHARED_HELP = (
    "the shared data folder (normal/, night_scenes/, real_dark/, lol_train/, video/, reference/); "
    f"default ${SHARED_ENV}, else ../shared/data beside the checkout"
)
SAMPLE_VIDEO = SHARED / "video" / "sample_no.mp4"
"""The video the fast-mode generators read unless given another."""


def add_video_argument(parser) -> None:
    """The optional VIDEO argument of the video generators, `SAMPLE_VIDEO` by default."""
    parser.add_argument(
        "video",
        type=Path,
        nargs="?",
        default=SAMPLE_VIDEO,
        help="default: video/sample_no.mp4 of the shared data (benchmarks/paths.py)",
    )
