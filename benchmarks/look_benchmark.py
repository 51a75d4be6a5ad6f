"""The look benchmark: every method on every photo set, with `lowlight eval`'s look report.

    python -m benchmarks make_look_sets --out data/look       # once: photo sets and synthetic test sets
    python -m benchmarks look_benchmark -m gamma=baseline:gamma -m official=official \
        -m agllnet-look-5=agllnet-look-5 -m agllnet-look-5-keep-colour=agllnet-look-5:keep-colour
    python -m benchmarks look_tables                          # tables of docs/benchmarks.md from the CSVs

Per set, it writes docs/results/look/SET/{per_image,summary}.csv and summary.md (committed) and
reports/look/SET/sheet.png (the contact sheet; not committed: some sets' terms forbid redistribution).
Each (set, method) is cached in reports/look/SET/cache/, so adding a method runs only that method;
--force recomputes. Without --merge a set's CSVs hold only the methods given; with it the committed rows of
the other methods stay (the summaries are recomputed from the per-image rows either way). --check recomputes
only the summaries, from the committed per-image rows, and fails naming each set whose summary.csv or
summary.md differs.

Where the data is: the shared sets (normal/, night_scenes/, real_dark/, lol_train/) under --shared, default
the LOWLIGHT_SHARED_DATA environment variable, else ../shared/data beside the repository
(benchmarks/paths.py); --data SET=FOLDER puts one set elsewhere. A trial on a few images, written away from
the committed results:

    python -m benchmarks look_benchmark --sets real-dark,night --limit 2 --out /tmp/look-trial \
        -m official=official -m gamma=baseline:gamma
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.doc_blocks import stale
from benchmarks.paths import RESULTS as ALL_RESULTS
from benchmarks.paths import ROOT, SHARED, SHARED_ENV, SHARED_HELP

RESULTS = ALL_RESULTS / "look"
"""SET/{per_image,summary}.csv and summary.md per set (committed); --out puts them, caches and sheets
elsewhere."""
REPORTS = ROOT / "reports" / "look"
"""SET/cache/ and SET/sheet.png per set (not committed)."""


def make_sets(shared: Path) -> dict:
    """name -> (data, split, self_target, kind); the night and real dark photos are scaled to NIGHT_SIDE."""
    return {
        "kodak24": (shared / "normal" / "kodak24", None, True, "well-exposed"),
        "mcmaster": (shared / "normal" / "mcmaster", None, True, "well-exposed"),
        "coco-heldout": (ROOT / "data" / "look" / "photos" / "test", None, True, "well-exposed"),
        "night": (shared / "night_scenes", None, False, "dark"),
        "real-dark": (shared / "real_dark", None, False, "dark"),
        "lol-test": (shared / "lol_train", "test", False, "real pairs"),
        "synth-noisy": (ROOT / "data" / "look" / "synth-noisy-test", "test", False, "noisy synthetic"),
    }


SETS = make_sets(SHARED)
SHEET_HEIGHT = 200
NIGHT_SIDE = 800
"""Longer side the night (1600 px) and real dark (1080p-4K) photos are evaluated at: a fraction of the work;
their look, black level and noise are the same at that scale."""
SCALED = ("night", "real-dark")


KEEP_COLOUR = ":keep-colour"


def method(spec: str, threads: int):
    """`baseline:NAME` or a weights reference (onnxruntime on `threads` threads, 0 = all), the latter with
    KEEP_COLOUR appended for `--keep-colour` -> HxWx3 float function."""
    from lowlight_cli.evaluation.evaluate import make_methods
    from lowlight_cli.inference.controls import Controls
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.onnx_backend import OnnxBackend
    from lowlight_cli.weights.registry import resolve_onnx

    if spec.startswith("baseline:"):
        return next(iter(make_methods((), (spec.split(":", 1)[1],)).values()))
    keep = spec.endswith(KEEP_COLOUR)
    weights = spec[: -len(KEEP_COLOUR)] if keep else spec
    enhancer = Enhancer(
        backend=OnnxBackend(resolve_onnx(weights), device="cpu", threads=threads),
        controls=Controls(keep_colour=keep),
    )
    return lambda rgb: enhancer.enhance(rgb).image


def check_synthetic(set_name: str) -> None:
    """Exit with one line when a synthetic set on disk was made with other settings than make_look_sets.py
    uses now: its pairs, and any result measured on them, would not be what the committed scripts give."""
    from benchmarks.make_look_sets import synth_sets
    from lowlight_cli.synth.pipeline import settings_differ

    data, synthetic = SETS[set_name][0], synth_sets()
    if data.name not in synthetic:
        return
    differ = settings_differ(data, synthetic[data.name][1])
    if differ:
        raise SystemExit(
            f"{data}: made with other settings than benchmarks/make_look_sets.py uses now "
            f"({', '.join(differ)}): delete it, rebuild it (python -m benchmarks make_look_sets) and rerun "
            f"every method on {set_name} with --force"
        )


def read_rows(path: Path) -> list[dict]:
    """Per-image rows of a CSV written here (a cache file or a set's per_image.csv)."""
    with open(path, newline="") as f:
        return [
            {k: (v if k in ("method", "image") else None if v == "" else float(v)) for k, v in r.items()}
            for r in csv.DictReader(f)
        ]


def run_one(
    set_name: str,
    label: str,
    spec: str,
    force: bool,
    threads: int,
    reports: Path = REPORTS,
    limit: int | None = None,
) -> tuple[list[dict], list[np.ndarray], list[np.ndarray]]:
    """Rows, output thumbnails and input thumbnails of one method on one set (cached in `reports`/SET/cache;
    with `limit`, its first images only)."""
    from lowlight_cli.evaluation.evaluate import COLUMNS, evaluate, find_samples

    data, split, self_target, _ = SETS[set_name]
    cache = reports / set_name / "cache"
    rows_file, thumbs_file = cache / f"{label}.csv", cache / f"{label}.npz"
    if rows_file.exists() and thumbs_file.exists() and not force:
        rows = read_rows(rows_file)
        thumbs = np.load(thumbs_file, allow_pickle=True)
        as_float = lambda ts: [t.astype(np.float32) / 255 for t in ts]  # noqa: E731
        return rows, as_float(thumbs["out"]), as_float(thumbs["inp"])
    sheet: list = []
    rows = evaluate(
        find_samples(data, split, self_target, limit),
        {label: method(spec, threads)},
        sheet_rows=sheet,
        sheet_height=SHEET_HEIGHT,
        max_side=NIGHT_SIDE if set_name in SCALED else None,
    )
    cache.mkdir(parents=True, exist_ok=True)
    with open(rows_file, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows({k: ("" if r.get(k) is None else r[k]) for k in COLUMNS} for r in rows)
    inp = [r[0] for r in sheet]
    out = [r[1] for r in sheet]

    def as8(thumbs: list[np.ndarray]) -> np.ndarray:
        packed = np.empty(len(thumbs), dtype=object)  # thumbnails differ in width
        packed[:] = [np.round(t * 255).astype(np.uint8) for t in thumbs]
        return packed

    np.savez_compressed(thumbs_file, out=as8(out), inp=as8(inp))
    return rows, out, inp


def check() -> list[str]:
    """The sets whose committed summary.csv or summary.md is not what their committed per-image rows give."""
    from lowlight_cli.evaluation.evaluate import summarize, write_reports

    problems = []
    for results in sorted(p.parent for p in RESULTS.glob("*/per_image.csv")):
        rows = read_rows(results / "per_image.csv")
        with tempfile.TemporaryDirectory() as tmp:
            write_reports(rows, summarize(rows), Path(tmp))
            problems += [
                stale(results / name, "look_benchmark")
                for name in ("summary.csv", "summary.md")
                if not filecmp.cmp(Path(tmp) / name, results / name, shallow=False)
            ]
    return problems


def main() -> None:
    from lowlight_cli.evaluation.evaluate import summarize, write_reports
    from lowlight_cli.evaluation.sheet import contact_sheet

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-m", "--method", action="append", help="LABEL=WEIGHTS or LABEL=baseline:NAME")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--force", action="store_true")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the committed rows of the methods not given (default: the sets' CSVs hold only these)",
    )
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: all cores)")
    parser.add_argument(
        "--shared",
        type=Path,
        default=SHARED,
        help=SHARED_HELP,
    )
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="SET=FOLDER",
        help="one set's folder instead of its place under --shared or data/look (repeatable)",
    )
    parser.add_argument(
        "--limit", type=int, help="only the first N images of each set (a trial; use with --out)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="write results, caches and sheets under OUT/SET instead of "
        "docs/results/look/SET and reports/look/SET",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only check that each set's committed summaries are what its committed per-image rows give",
    )
    args = parser.parse_args()
    if args.check:
        problems = check()
        if problems:
            raise SystemExit("\n".join(problems))
        return
    if not args.method:
        parser.error("the following arguments are required: -m/--method")
    SETS.update(make_sets(args.shared))
    for spec in args.data:
        name, _, folder = spec.partition("=")
        if name not in SETS or not folder:
            parser.error(f"--data {spec}: expected SET=FOLDER with SET one of {', '.join(SETS)}")
        SETS[name] = (Path(folder), *SETS[name][1:])
    sets = args.sets.split(",")
    unknown = [name for name in sets if name not in SETS]
    if unknown:
        parser.error(f"--sets: unknown {', '.join(unknown)} (available: {', '.join(SETS)})")
    missing = [
        f"{name} ({SETS[name][0]})"
        for name in sets
        if not SETS[name][0].is_dir() and not any(c in str(SETS[name][0]) for c in "*?[")
    ]  # a glob: find_samples
    if missing:
        parser.error(f"no folder for {', '.join(missing)}: give --shared, ${SHARED_ENV} or --data SET=FOLDER")
    if args.limit and not args.out:
        parser.error("--limit writes a partial set: give --out, away from the committed docs/results/look")
    results_root, reports = (args.out, args.out) if args.out else (RESULTS, REPORTS)
    methods = dict(m.split("=", 1) for m in args.method)
    for set_name in sets:
        check_synthetic(set_name)
        rows, columns, inputs = [], [], None
        for label, spec in methods.items():
            r, thumbs, inp = run_one(set_name, label, spec, args.force, args.threads, reports, args.limit)
            rows += r
            columns.append(thumbs)
            inputs = inp
            print(f"{set_name}: {label} done", flush=True)
        results = results_root / set_name
        if (
            args.merge and (results / "per_image.csv").exists()
        ):  # each method keeps its place; new ones go last
            kept = read_rows(results / "per_image.csv")
            order = list(dict.fromkeys([r["method"] for r in kept] + list(methods)))
            rows = sorted(
                [r for r in kept if r["method"] not in methods] + rows, key=lambda r: order.index(r["method"])
            )
        write_reports(rows, summarize(rows), results)
        sheet_rows = [[inputs[i], *(col[i] for col in columns)] for i in range(len(inputs))]
        contact_sheet(sheet_rows, ("input", *methods), reports / set_name / "sheet.png")


if __name__ == "__main__":
    main()
