"""Ray runs against local runs on this machine: throughput, Ray's overhead per image, identity of the outputs.

    python -m benchmarks scale_bench [--images 12] [--out docs/results/scale] [--check]

Sources: the three real photos of tests/data/synth, copied `--images / 3` times under other names (each
name seeds its own pair). Synth runs with the candidate filters off (every source becomes a pair). Timed,
in this process, after one untimed warm-up of each job:

- local: `synth` in one process (workers=0) and with 2 worker processes; `enhance` in one process;
- Ray: a local Ray instance with 2 CPUs (`ray.init(num_cpus=2)`, timed apart as start-up), actor pools of
  1 and 2 actors (1 CPU each), on all images and on 1 image.

Ray's overhead: `fixed` = Ray(1 image) - local(1 image), the cost of a run whatever its size (actor pool
start, model load per actor, scheduling); `per image` = the marginal cost of one more image on Ray minus
the same on the local run: (Ray(N) - Ray(1) - (local(N) - local(1))) / (N - 1), with one actor.
Identity: the Ray outputs are compared with the one-process run (synth: every file byte for byte;
enhance: decoded pixels). Writes OUT.csv (one row per run), OUT.json (overheads, identity, machine) and
the table between the `scale:start`/`scale:end` markers of docs/scale.md. Run on an idle machine. --check
measures nothing: it fails when that table is not what the committed docs/results/scale.{csv,json} give.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.doc_blocks import replace, stale
from benchmarks.paths import RESULTS, ROOT
from lowlight_cli.synth.settings import DEFAULTS

DOC = ROOT / "docs" / "scale.md"
START, END = "<!-- scale:start (benchmarks/scale_bench.py writes this) -->", "<!-- scale:end -->"
COCO_TRAIN = 118_287
SETTINGS = dataclasses.replace(DEFAULTS, darkness_filter=False, blur_filter=False, colour_filter=False)


def make_sources(folder: Path, count: int) -> None:
    photos = sorted((ROOT / "tests" / "data" / "synth").glob("*.jpg"))
    folder.mkdir(parents=True)
    for i in range(count):
        shutil.copy(photos[i % len(photos)], folder / f"photo{i:03d}.jpg")


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--out", type=Path, default=RESULTS / "scale")
    parser.add_argument(
        "--check", action="store_true", help="only check docs/scale.md's table against the committed results"
    )
    args = parser.parse_args()
    if args.check:
        problems = check()
        if problems:
            sys.exit("\n".join(problems))
        return

    import ray

    from lowlight_cli.cluster.ray_runs import enhance_ray, synth_ray
    from lowlight_cli.cluster.runtime import Resources
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.files import enhance_items
    from lowlight_cli.io.images import read_image
    from lowlight_cli.io.paths import collect_inputs
    from lowlight_cli.synth.pipeline import run
    from lowlight_cli.synth.sources import folder_or_glob
    from lowlight_cli.weights.registry import DEFAULT_WEIGHTS

    work = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    n = args.images
    make_sources(work / "src", n)
    make_sources(work / "one", 1)
    rows: list[dict] = []

    def record(job: str, mode: str, workers: int, images: int, seconds: float) -> None:
        rows.append(
            {
                "job": job,
                "mode": mode,
                "workers": workers,
                "images": images,
                "seconds": round(seconds, 3),
                "images_per_s": round(images / seconds, 3),
            }
        )
        print(rows[-1], flush=True)

    def out(name: str) -> Path:
        return work / "out" / name

    # -- synth
    src, one = str(work / "src"), str(work / "one")
    run(folder_or_glob(one), out("warm-local"), SETTINGS, workers=0)
    record(
        "synth", "local", 1, n, timed(lambda: run(folder_or_glob(src), out("s-local-1"), SETTINGS, workers=0))
    )
    record(
        "synth",
        "local",
        1,
        1,
        timed(lambda: run(folder_or_glob(one), out("s-local-1-one"), SETTINGS, workers=0)),
    )
    record(
        "synth", "local", 2, n, timed(lambda: run(folder_or_glob(src), out("s-local-2"), SETTINGS, workers=2))
    )
    init = timed(lambda: ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False))
    synth_ray(folder_or_glob(one), out("warm-ray"), SETTINGS, resources=Resources(actors=1))
    for actors in (1, 2):
        res = Resources(actors=actors)
        record(
            "synth",
            "ray",
            actors,
            n,
            timed(
                lambda actors=actors, res=res: synth_ray(
                    folder_or_glob(src), out(f"s-ray-{actors}"), SETTINGS, resources=res
                )
            ),
        )
    record(
        "synth",
        "ray",
        1,
        1,
        timed(
            lambda: synth_ray(
                folder_or_glob(one), out("s-ray-1-one"), SETTINGS, resources=Resources(actors=1)
            )
        ),
    )
    reference = tree(out("s-local-1"))
    synth_identical = {
        f"{mode}": tree(out(mode)) == reference for mode in ("s-local-2", "s-ray-1", "s-ray-2")
    }
    synth_files = len(reference)

    # -- enhance
    settings = dict(weights=DEFAULT_WEIGHTS, device="cpu")
    items, single = collect_inputs([src]), collect_inputs([one])
    enhancer = Enhancer(**settings)
    list(enhance_items(enhancer, single, out("warm-e-local"), ""))
    record(
        "enhance", "local", 1, n, timed(lambda: list(enhance_items(enhancer, items, out("e-local-1"), "")))
    )
    record(
        "enhance",
        "local",
        1,
        1,
        timed(lambda: list(enhance_items(enhancer, single, out("e-local-1-one"), ""))),
    )
    list(enhance_ray(single, out("warm-e-ray"), "", settings, resources=Resources(actors=1)))
    for actors in (1, 2):
        res = Resources(actors=actors)
        record(
            "enhance",
            "ray",
            actors,
            n,
            timed(
                lambda actors=actors, res=res: list(
                    enhance_ray(items, out(f"e-ray-{actors}"), "", settings, resources=res)
                )
            ),
        )
    record(
        "enhance",
        "ray",
        1,
        1,
        timed(
            lambda: list(enhance_ray(single, out("e-ray-1-one"), "", settings, resources=Resources(actors=1)))
        ),
    )
    names = sorted(p.name for p in out("e-local-1").iterdir())
    enhance_identical = {
        mode: sorted(p.name for p in out(mode).iterdir()) == names
        and all(
            np.array_equal(read_image(out(mode) / name)[0], read_image(out("e-local-1") / name)[0])
            for name in names
        )
        for mode in ("e-ray-1", "e-ray-2")
    }
    ray.shutdown()
    shutil.rmtree(work)

    summary = summarize(rows, n, init, synth_identical, synth_files, enhance_identical, ray.__version__)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    args.out.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    replace(DOC, START, END, table(rows, summary), check=False)
    print(json.dumps(summary, indent=2))


def summarize(
    rows: list[dict],
    n: int,
    init: float,
    synth_identical: dict,
    synth_files: int,
    enhance_identical: dict,
    ray_version: str,
) -> dict:
    """Overheads and speed-ups from the timed rows (see the module docstring), with the identity checks."""

    def seconds(job: str, mode: str, workers: int, images: int) -> float:
        return next(
            r["seconds"]
            for r in rows
            if (r["job"], r["mode"], r["workers"], r["images"]) == (job, mode, workers, images)
        )

    overhead = {}
    for job in ("synth", "enhance"):
        local_n, local_1 = seconds(job, "local", 1, n), seconds(job, "local", 1, 1)
        ray_n, ray_1 = seconds(job, "ray", 1, n), seconds(job, "ray", 1, 1)
        overhead[job] = {
            "local_s_per_image": round((local_n - local_1) / (n - 1), 3),
            "ray_fixed_s": round(ray_1 - local_1, 3),
            "ray_overhead_s_per_image": round((ray_n - ray_1 - (local_n - local_1)) / (n - 1), 3),
            "speedup_2_actors_vs_local": round(local_n / seconds(job, "ray", 2, n), 2),
            "speedup_2_actors_vs_1_actor": round(seconds(job, "ray", 1, n) / seconds(job, "ray", 2, n), 2),
        }
    summary = {
        "images": n,
        "ray_init_s": round(init, 3),
        "overhead": overhead,
        "synth_byte_identical_to_one_process": synth_identical,
        "synth_files_compared": synth_files,
        "enhance_pixels_identical_to_local": enhance_identical,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "ray": ray_version,
            "processor": platform.processor() or platform.machine(),
        },
    }
    return summary


def check() -> list[str]:
    """docs/scale.md's table against the one the committed docs/results/scale.{csv,json} give."""
    with open(RESULTS / "scale.csv", newline="") as f:
        rows = [
            {
                **r,
                **{k: int(r[k]) for k in ("workers", "images")},
                **{k: float(r[k]) for k in ("seconds", "images_per_s")},
            }
            for r in csv.DictReader(f)
        ]
    summary = json.loads((RESULTS / "scale.json").read_text())
    return [] if replace(DOC, START, END, table(rows, summary), check=True) else [stale(DOC, "scale_bench")]


def table(rows: list[dict], summary: dict) -> str:
    """The measured table of docs/scale.md, markers included."""
    lines = [
        "| job | run | workers | images | seconds | images/s |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['job']} | {r['mode']} | {r['workers']} | {r['images']} | {r['seconds']:.1f} "
        f"| {r['images_per_s']:.2f} |"
        for r in rows
    ]
    lines += [
        "",
        f"Ray start-up (`ray.init(num_cpus=2)`): {summary['ray_init_s']:.1f} s, once per cluster.",
        "",
        "| job | local s/image | Ray fixed cost per run (s) | Ray overhead per image (s) | 2 actors vs local "
        "| 2 actors vs 1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for job, o in summary["overhead"].items():
        lines.append(
            f"| {job} | {o['local_s_per_image']:.2f} | {o['ray_fixed_s']:.1f} "
            f"| {o['ray_overhead_s_per_image']:.3f} | "
            f"{o['speedup_2_actors_vs_local']:.2f}x | {o['speedup_2_actors_vs_1_actor']:.2f}x |"
        )
    lines += [
        "",
        "Linear extrapolation for COCO train2017 (118,287 photos) from the steady one-actor Ray rate here "
        "(local seconds per image + Ray's overhead per image), one actor per core, nodes of 8 such cores, "
        "shared storage not the limit, start-up costs left out:",
        "",
        "| nodes x 8 cores | synth hours | enhance hours |",
        "| ---: | ---: | ---: |",
    ]
    rate = {
        job: 1 / (o["local_s_per_image"] + o["ray_overhead_s_per_image"])
        for job, o in summary["overhead"].items()
    }
    for nodes in (1, 4, 16, 64):
        lines.append(
            f"| {nodes} | {COCO_TRAIN / (rate['synth'] * 8 * nodes) / 3600:.1f} | "
            f"{COCO_TRAIN / (rate['enhance'] * 8 * nodes) / 3600:.1f} |"
        )
    same = summary["synth_byte_identical_to_one_process"] | summary["enhance_pixels_identical_to_local"]
    lines += [
        "",
        f"Identity with the one-process run: {', '.join(f'{k}: {v}' for k, v in same.items())} "
        f"({summary['synth_files_compared']} synth files compared byte for byte; enhance: decoded pixels).",
    ]
    return START + "\n" + "\n".join(lines) + "\n" + END


if __name__ == "__main__":
    main()
