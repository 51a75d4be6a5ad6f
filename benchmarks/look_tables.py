"""Tables of the docs from committed CSVs, and the default-weights rule.

    python -m benchmarks look_tables [--candidate my-weights ...] [--check]

Reads docs/results/look/SET/summary.csv (written by benchmarks/look_benchmark.py) and rewrites the part of
docs/benchmarks.md between the `<!-- look-tables -->` markers; reads docs/results/train_speed.csv (written
by benchmarks/train_speed.py) and rewrites the part of docs/training.md between the `<!-- train-speed -->`
markers; the same for the AgLLNet-Lite cost (docs/results/lite/cost.csv, benchmarks/lite_cost.py), the lite
run's and the model cards' validation curves (their committed logs). With --check it only says which files are
out of date (exit 1 if any).

The rule (also in docs/benchmarks.md): a candidate may be the default only if on every set it is no worse
than `official` on each of that set's criteria (within NO_WORSE), meets that set's BELOW requirements (NIQE
below `gamma`'s on the dark sets), and is strictly better on most criteria.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from benchmarks.doc_blocks import replace, stale
from benchmarks.paths import ROOT
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS  # the incumbent a candidate must also beat

RESULTS = ROOT / "docs" / "results" / "look"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- look-tables:start -->", "<!-- look-tables:end -->"
REFERENCE = "official"
CANDIDATES = ["agllnet-look-5", "agllnet-look-5-keep-colour", "agllnet-lite"]
"""Our weights judged by the rule: the bundled default `agllnet-look-5`, the same with `--keep-colour`
(benchmarks/look_benchmark.py's `:keep-colour`) and AgLLNet-Lite (`agllnet-lite`,
docs/model-card-lite.md)."""

KINDS = {
    "kodak24": "well-exposed",
    "mcmaster": "well-exposed",
    "coco-heldout": "well-exposed",
    "night": "dark",
    "real-dark": "dark",
    "lol-test": "real pairs",
    "synth-noisy": "noisy synthetic",
}
CRITERIA = {
    # kind: [(column, how it is scored: "high" better, "low" better, or "one": closer to 1 better)]
    "well-exposed": [("psnr", "high"), ("chroma_ratio", "one"), ("clipped_new", "low")],
    "dark": [
        ("delta_ab", "low"),
        ("chroma_ratio", "one"),
        ("clipped_new", "low"),
        ("black", "low"),
        ("niqe", "low"),
    ],
    "real pairs": [("psnr", "high"), ("ssim", "high")],
    "noisy synthetic": [("psnr", "high"), ("ssim", "high")],
}
NO_WORSE = {
    "psnr": 0.1,
    "ssim": 0.005,
    "chroma_ratio": 0.02,
    "clipped_new": 0.002,
    "delta_ab": 0.3,
    "black": 1.0,
    "niqe": 0.0,
}
"""How much worse than the reference still counts as "no worse" (measurement noise; the black level: at most
the reference's + 1 L*). NIQE has none: it is deterministic, and the candidate's must be below the
reference's."""
BELOW = {"dark": [("niqe", "gamma")]}
"""kind: [(column, method)]: besides the criteria, the candidate's value must be below that method's on each
such set (NIQE below the plain gamma's: a network that looks less natural than one global curve has not earned
its place)."""
TARGETS = {
    # kind: [(column, test, text)]: the look targets of docs/benchmarks.md
    "well-exposed": [
        ("psnr", lambda v: v >= 25, "PSNR vs input >= 25 dB"),
        ("chroma_ratio", lambda v: v >= 0.9, "chroma >= 0.9"),
        ("clipped_new", lambda v: v <= 0.01, "newly clipped <= 1 %"),
    ],
    "dark": [
        ("delta_ab", lambda v: v <= 3, "colour shift <= 3"),
        ("chroma_ratio", lambda v: 0.9 <= v <= 1.4, "chroma 0.9-1.4"),
        ("clipped_new", lambda v: v <= 0.02, "newly clipped <= 2 %"),
    ],
}


def load() -> dict[str, dict[str, dict[str, float]]]:
    """set -> method -> column -> mean (None where empty)."""
    data = {}
    for name in KINDS:
        path = RESULTS / name / "summary.csv"
        if path.exists():
            with open(path, newline="") as f:
                data[name] = {
                    r["method"]: {
                        k: (float(v) if v not in ("", None) else None) for k, v in r.items() if k != "method"
                    }
                    for r in csv.DictReader(f)
                }
    return data


def score(value: float, how: str) -> float:
    """Higher is better."""
    return value if how == "high" else -value if how == "low" else -abs(value - 1)


def verdict(
    data: dict, candidate: str, reference: str = REFERENCE, better_on_most: bool = True
) -> tuple[list[str], bool]:
    """Rows of the rule table, and whether the candidate passes the rule against `reference`: measured on
    every set the reference is, no worse on any criterion, and better on most (against `official`) or on at
    least one (`better_on_most=False`: against the current default, which already maxes the well-exposed
    criteria it keeps photos for, so "most" could not be met)."""
    lines, worse, better, total = [], 0, 0, 0
    for name, methods in data.items():
        if reference not in methods:
            continue
        if (
            candidate not in methods
        ):  # e.g. weights not run on a set added after they were measured: they cannot pass unmeasured
            total += 1
            worse += 1
            lines.append(f"| {name} | all | not measured | | **not measured** |")
            continue
        for column, how in CRITERIA[KINDS[name]]:
            ours, ref = methods[candidate].get(column), methods[reference].get(column)
            if ref is None:  # the reference has no such figure here (a column added after it was measured)
                continue
            if (
                ours is None
            ):  # the candidate was measured before the column existed: it cannot pass unmeasured
                total += 1
                worse += 1
                lines.append(f"| {name} | {column} | not measured | {_num(column, ref)} | **not measured** |")
                continue
            diff = score(ours, how) - score(ref, how)
            state = (
                "better"
                if diff > NO_WORSE[column]
                else "no worse"
                if diff >= -NO_WORSE[column]
                else "**worse**"
            )
            total += 1
            better += state == "better"
            worse += state == "**worse**"
            lines.append(f"| {name} | {column} | {_num(column, ours)} | {_num(column, ref)} | {state} |")
        for column, other in BELOW.get(
            KINDS[name], []
        ):  # requirements, not criteria: never "better", not in `total`
            ours, bar = methods[candidate].get(column), methods.get(other, {}).get(column)
            if ours is None:  # already a criterion not measured above (or not a figure of this set)
                continue
            met = bar is not None and ours < bar  # unmeasured, the bar cannot be shown to be met
            worse += not met
            lines.append(
                f"| {name} | {column} below {other}'s | {_num(column, ours)} | "
                f"{_num(column, bar) or 'not measured'} ({other}) | {'met' if met else '**not met**'} |"
            )
    passed = worse == 0 and (better > total / 2 if better_on_most else better >= 1)
    return lines, passed


def _num(column: str, value) -> str:
    if value is None:
        return ""
    if column in ("clipped", "clipped_new"):
        return f"{100 * value:.2f} %"
    if column in ("psnr", "psnr_gt_mean"):
        return f"{value:.2f}"
    if column in ("ssim", "ssim_gt_mean"):
        return f"{value:.3f}"
    if column in ("delta_a", "delta_b"):
        return f"{value:+.2f}"
    if column == "black":
        return f"{value:.1f}"
    if column == "black_change":
        return f"{value:+.1f}"
    return f"{value:.2f}"


def tables(data: dict, candidates: list[str]) -> str:
    out = [START, ""]
    shown = (
        "psnr",
        "ssim",
        "psnr_gt_mean",
        "ssim_gt_mean",
        "black",
        "black_change",
        "niqe",
        "in_luma",
        "luma",
        "clipped",
        "clipped_new",
        "delta_a",
        "delta_b",
        "delta_ab",
        "chroma_ratio",
        "contrast_ratio",
        "local_contrast",
        "noise",
    )
    head = (
        "| method | PSNR | SSIM | GT-mean PSNR | GT-mean SSIM | black L* (median) | black Δ (median) "
        "| NIQE (median) | luma in | luma out | clipped | newly clipped | Δa* | Δb* | colour shift "
        "| chroma × (median) | contrast × (median) | local contrast × (median) | noise out |"
    )
    for name, methods in data.items():
        n = int(next(iter(methods.values()))["images"])
        out += [f"**{name}** ({KINDS[name]}, {n} images)", "", head, "| --- |" + " ---: |" * (len(shown))]
        for method, row in methods.items():
            cells = [
                _num(c, row.get(c)) if c != "noise" or row.get(c) is None else f"{row[c]:.4f}" for c in shown
            ]
            label = f"**{method}**" if method in candidates else method
            out.append(f"| {label} | " + " | ".join(cells) + " |")
        targets = TARGETS.get(KINDS[name])
        if targets:
            met = []
            for method, row in methods.items():
                ok = [text for column, test, text in targets if row[column] is not None and test(row[column])]
                met.append(f"{method} {len(ok)}/{len(targets)}")
            out += ["", "Targets (" + "; ".join(t[2] for t in targets) + ") met: " + ", ".join(met) + "."]
        out.append("")
    for candidate in candidates:
        lines, passed = verdict(data, candidate)
        out += _rule_block(candidate, REFERENCE, lines, passed)
        if (
            passed and candidate != DEFAULT_WEIGHTS
        ):  # eligible: does it also beat the default it would replace?
            out += _rule_block(
                candidate, DEFAULT_WEIGHTS, *verdict(data, candidate, DEFAULT_WEIGHTS, better_on_most=False)
            )
    return "\n".join(out + [END])


def _rule_block(candidate: str, reference: str, lines: list[str], passed: bool) -> list[str]:
    criteria = [line for line in lines if not line.endswith(("| met |", "| **not met** |"))]
    worse = sum("**worse**" in line for line in criteria)
    unmeasured = [
        " ".join(line.split(" | ")[:2])[2:].replace(" all", "")
        for line in criteria
        if "**not measured**" in line
    ]
    unmet = [
        line.split(" | ")[0][2:] + " " + line.split(" | ")[1]
        for line in lines
        if line.endswith("| **not met** |")
    ]
    why = (
        f" (worse on {worse} of {len(criteria) - len(unmeasured)} criteria"
        + (f"; not measured: {', '.join(unmeasured)}" if unmeasured else "")
        + (f"; not met: {', '.join(unmet)}" if unmet else "")
        + ")."
    )
    return [
        f"**The rule, `{candidate}` against `{reference}`**: "
        + ("passes." if passed else "does **not** pass" + why),
        "",
        f"| set | criterion | {candidate} | {reference} | verdict |",
        "| --- | --- | ---: | ---: | --- |",
        *lines,
        "",
    ]


def speed_table() -> str:
    with open(ROOT / "docs" / "results" / "train_speed.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    out = [
        "<!-- train-speed:start -->",
        "",
        "| crop | batch | channels-last | bf16 autocast | s/step | kpx/s | synthesis s/sample | note |",
        "| ---: | ---: | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        step = "" if r["s_per_step"] == "nan" else r["s_per_step"]
        kpx = "" if r["kpx_per_s"] == "nan" else r["kpx_per_s"]
        out.append(
            f"| {r['crop']} | {r['batch']} | {r['channels_last']} | {r['bf16']} | {step} | {kpx} | "
            f"{r['synth_s_per_sample']} | {r['note']} |"
        )
    return "\n".join(out + ["", "<!-- train-speed:end -->"])


def lite_cost_table() -> str:
    """AgLLNet-Lite against AgLLNet, from docs/results/lite/cost.csv (benchmarks/lite_cost.py)."""
    names = {
        "flops_per_pixel": "FLOPs per pixel (forward)",
        "train_kpx_per_s": "training kpx/s",
        "onnx_1080p_s": "onnxruntime, one 1080p photo (s)",
    }
    with open(ROOT / "docs" / "results" / "lite" / "cost.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    out = [
        "<!-- lite-cost:start -->",
        "",
        "| quantity | AgLLNet | AgLLNet-Lite | ratio | how |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    out += [
        f"| {names.get(r['quantity'], r['quantity'])} | {r['agllnet']} | {r['agllnet_lite']} | {r['ratio']}x "
        f"| {r['note']} |"
        for r in rows
    ]
    return "\n".join(out + ["", "<!-- lite-cost:end -->"])


LITE_RUNS = (
    ("agllnet-lite", "from scratch"),
    ("agllnet-lite-2", "fine-tune of the first run's step-10000 EMA weights; its last step is bundled"),
)
"""The committed runs that make the bundled `agllnet-lite`, in order: (runs/ folder, what it is)."""


def lite_run_table() -> str:
    """The AgLLNet-Lite runs' validation curves and totals, from their committed logs (LITE_RUNS)."""
    import yaml

    out = [
        "<!-- lite-run:start -->",
        "",
        "Validation on `data/look/synth-val` (16 crops of 256 px from 39 held-out photos, all pair kinds; "
        "EMA weights, no gate), every 250 steps of the committed runs:",
        "",
        "| run | step | val PSNR | val SSIM |",
        "| --- | ---: | ---: | ---: |",
    ]
    per_run: list[tuple[int, int, float, float]] = []  # steps, samples, gigapixels, hours
    notes = []
    for name, what in LITE_RUNS:
        run = ROOT / "runs" / name
        with open(run / "val.csv", newline="") as f:
            val = list(csv.DictReader(f))
        with open(run / "train.csv", newline="") as f:
            train = list(csv.DictReader(f))
        out += [f"| {name} | {r['step']} | {float(r['psnr']):.2f} | {float(r['ssim']):.3f} |" for r in val]
        config = yaml.safe_load((run / "config.yaml").read_text())
        steps, crop_batch = int(train[-1]["step"]), config["crop"] ** 2 * config["batch"]
        seconds, previous = 0.0, 0
        for r in train:  # each logged interval at its logged rate
            seconds += (int(r["step"]) - previous) / float(r["steps_per_s"])
            previous = int(r["step"])
        per_run.append((steps, steps * config["batch"], steps * crop_batch / 1e9, seconds / 3600))
        notes.append(
            f"`runs/{name}` ({what}): {steps} steps of {config['batch']} crops of {config['crop']} px, "
            f"{steps / seconds:.2f} steps/s ({steps / seconds * crop_batch / 1e3:.0f} kpx/s), "
            f"curves [runs/{name}/curves.png](../runs/{name}/curves.png)."
        )
    out += ["", *(f"- {n}" for n in notes)]
    totals = [sum(column) for column in zip(*per_run, strict=True)]
    out += [
        "",
        f"In all: {totals[0]:,} steps, {totals[1]:,} samples, {totals[2]:.2f} gigapixels, "
        f"{totals[3]:.1f} hours of training steps (validation not counted) on a 2-core CPU shared with "
        "other work.",
        "",
        "<!-- lite-run:end -->",
    ]
    return "\n".join(out)


CARD_ROWS = {
    # kind: [(criterion shown, columns joined by " / ")]
    "dark": [
        ("black L* / NIQE (medians)", ("black", "niqe")),
        ("colour shift / newly clipped", ("delta_ab", "clipped_new")),
    ],
    "real pairs": [
        ("PSNR / SSIM", ("psnr", "ssim")),
        ("GT-mean PSNR / SSIM", ("psnr_gt_mean", "ssim_gt_mean")),
    ],
    "noisy synthetic": [
        ("PSNR / SSIM", ("psnr", "ssim")),
        ("GT-mean PSNR / SSIM", ("psnr_gt_mean", "ssim_gt_mean")),
    ],
}
CARD_PEERS = (REFERENCE, DEFAULT_WEIGHTS, "gamma")
"""The methods a model card's results table puts beside its weights."""
CARDS = {"model-card-lite.md": "agllnet-lite", "model-card-look-5.md": "agllnet-look-5"}
"""Model card -> the method of the look benchmark its results table is about."""


def card_table(data: dict, method: str) -> str:
    """A model card's look results: `method` beside CARD_PEERS on every set, from the committed summaries."""
    methods = [method, *(m for m in CARD_PEERS if m != method)]
    out = [
        "<!-- card-results:start -->",
        "",
        "| set | criterion | " + " | ".join(f"`{m}`" if m != "gamma" else m for m in methods) + " |",
        "| --- | --- |" + " ---: |" * len(methods),
    ]
    well_exposed = [name for name in data if KINDS[name] == "well-exposed"]
    for name, rows in data.items():
        n = int(next(iter(rows.values()))["images"])
        for label, columns in CARD_ROWS.get(KINDS[name], []):
            cells = [" / ".join(_num(c, rows.get(m, {}).get(c)) for c in columns) for m in methods]
            out.append(f"| {name} ({n}) | {label} | " + " | ".join(cells) + " |")
    if well_exposed:
        cells = [" / ".join(f"{data[s][m]['psnr']:.1f}" for s in well_exposed) for m in methods]
        out.append(f"| {' / '.join(well_exposed)} | PSNR against the input | " + " | ".join(cells) + " |")
    lines, passed = verdict(data, method)
    failed = sum("**" in line for line in lines)  # worse, not met or not measured
    rule = "[the rule for the default](benchmarks.md#the-rule-for-the-default)"
    verdict_text = (
        f"passes {rule} against `{REFERENCE}`"
        if passed
        else f"does not pass {rule}: it fails {failed} of its {len(lines)} checks against `{REFERENCE}`"
        if failed
        else f"does not pass {rule}: no worse than `{REFERENCE}` anywhere, but not better on most criteria"
    )
    out += ["", f"`{method}` {verdict_text}.", "", "<!-- card-results:end -->"]
    return "\n".join(out)


RUNS = {
    # model card: (committed logs of its run, curves image, what the validation numbers are, the run's stage)
    "model-card-look-5.md": (
        "look-train-5",
        "agllnet-look-5-curves.png",
        "raw weights, with the per-pixel gate (0.1, 0.3) they were trained through",
        "enhance",
    ),
}


def run_table(logs: str, curves: str, what: str, stage: str) -> str:
    """A bundled run's validation PSNR/SSIM and speed, from its committed logs."""
    logs = ROOT / "docs" / "results" / logs
    with open(logs / "val.csv", newline="") as f:
        val = list(csv.DictReader(f))
    with open(logs / "train.csv", newline="") as f:
        train = list(csv.DictReader(f))
    out = [
        "<!-- look-run:start -->",
        "",
        "Validation on `data/look/synth-val` (16 crops of 256 px from 39 held-out photos, all pair kinds; "
        f"{what}),",
        f"logged by the {stage} run:",
        "",
        f"| {stage} step | val PSNR | val SSIM |",
        "| ---: | ---: | ---: |",
    ]
    out += [f"| {r['step']} | {float(r['psnr']):.2f} | {float(r['ssim']):.3f} |" for r in val]
    last = train[-1]
    out += [
        "",
        f"Last logged step {last['step']}: loss {float(last['total']):.3f}, "
        f"{float(last['steps_per_s']):.3f} steps/s "
        "on average (128 px x 8, channels-last fp32, this machine shared with other work at times). "
        f"Curves: [images/{curves}](images/{curves}).",
        "",
        "<!-- look-run:end -->",
    ]
    return "\n".join(out)


def blocks(candidates: list[str]) -> list[tuple[Path, str, str, str]]:
    """(doc, start marker, end marker, generated block) of every part of the docs written here."""
    docs = ROOT / "docs"
    out = [
        (DOC, START, END, tables(load(), candidates)),
        (docs / "training.md", "<!-- train-speed:start -->", "<!-- train-speed:end -->", speed_table()),
        (docs / "training.md", "<!-- lite-cost:start -->", "<!-- lite-cost:end -->", lite_cost_table()),
    ]
    out += [
        (docs / doc, "<!-- lite-run:start -->", "<!-- lite-run:end -->", lite_run_table())
        for doc in ("training.md", "model-card-lite.md")
    ]
    out += [
        (docs / card, "<!-- look-run:start -->", "<!-- look-run:end -->", run_table(*run))
        for card, run in RUNS.items()
    ]
    out += [
        (docs / card, "<!-- card-results:start -->", "<!-- card-results:end -->", card_table(load(), method))
        for card, method in CARDS.items()
    ]
    out.append(
        (docs / "model-card-lite.md", "<!-- lite-cost:start -->", "<!-- lite-cost:end -->", lite_cost_table())
    )
    return out


def check(candidates: list[str] | None = None) -> list[str]:
    """One line per doc whose generated parts are not what the committed CSVs and logs give."""
    stale_docs = [
        doc for doc, *block in blocks(candidates or CANDIDATES) if not replace(doc, *block, check=True)
    ]
    return [stale(doc, "look_tables") for doc in dict.fromkeys(stale_docs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--candidate",
        action="append",
        help=f"weights judged by the rule (repeatable); default: {', '.join(CANDIDATES)}",
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        problems = check(args.candidate)
        if problems:
            sys.exit("\n".join(problems))
        return
    for doc, *block in blocks(args.candidate or CANDIDATES):
        replace(doc, *block, check=False)


if __name__ == "__main__":
    main()
