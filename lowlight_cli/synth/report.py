"""Filter and parameter statistics of a synth folder, as JSON and Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lowlight_cli.io.atomic import atomic_path
from lowlight_cli.synth.select import FILTERS
from lowlight_cli.synth.settings import SynthSettings

EXAMPLES = 5
THRESHOLDS = {"darkness": "bright_fraction", "blur": "blur_threshold", "colour": "colour_threshold"}
METRICS = {"darkness": "bright_fraction", "blur": "laplacian_variance", "colour": "colourfulness"}
PARAMS = ("alpha", "beta", "gamma", "sigma_s", "sigma_c", "crf_gamma")


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    q = np.percentile(values, [0, 5, 50, 95, 100])
    return dict(zip(("min", "p5", "median", "p95", "max"), (round(float(v), 4) for v in q), strict=True))


def _rules(s: SynthSettings) -> dict[str, str]:
    return {
        "darkness": (
            f"keep if >= {s.bright_fraction:.0%} of ~{s.superpixels} superpixels have mean luma >= "
            f"{s.bright_level:g}"
        ),
        "blur": f"keep if Laplacian variance >= {s.blur_threshold:g}",
        "colour": f"keep if colourfulness >= {s.colour_threshold:g}",
    }


def build_report(pairs: list[dict], skipped: list[dict], settings: SynthSettings) -> dict:
    """Counts per filter (an image failing two filters counts for both), examples, failures,
    distributions of the filter metrics and of the sampled parameters."""
    rejected = [r for r in skipped if r["status"] == "rejected"]
    failed = [r for r in skipped if r["status"] == "failed"]
    evaluated = pairs + rejected
    filters, rules = {}, _rules(settings)
    for name in FILTERS:
        hits = [r["source"] for r in rejected if name in r["failed"]]
        filters[name] = {
            "enabled": getattr(settings, f"{name}_filter"),
            "threshold": getattr(settings, THRESHOLDS[name]),
            "rule": rules[name],
            "rejected": len(hits),
            "only_this": sum(1 for r in rejected if r["failed"] == [name]),
            "examples": hits[:EXAMPLES],
            "metric": METRICS[name],
            "distribution": _quantiles(
                [r["metrics"][METRICS[name]] for r in evaluated if METRICS[name] in r["metrics"]]
            ),
        }
    return {
        "sources": len(evaluated) + len(failed),
        "pairs": len(pairs),
        "train": sum(1 for r in pairs if r["split"] == "train"),
        "test": sum(1 for r in pairs if r["split"] == "test"),
        "rejected": len(rejected),
        "failed": [{"source": r["source"], "reason": r["reason"]} for r in failed],
        "filters": filters,
        "params": {p: _quantiles([r["params"][p] for r in pairs]) for p in PARAMS},
        "examples_kept": [r["source"] for r in pairs[:EXAMPLES]],
    }


def to_markdown(report: dict) -> str:
    lines = [
        (
            f"{report['sources']} sources: {report['pairs']} pairs ({report['train']} train, "
            f"{report['test']} test), {report['rejected']} rejected, {len(report['failed'])} "
            "unreadable or failed."
        ),
        "",
        "| filter | rule | rejected | only by this filter | metric p5 / median / p95 | examples |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in report["filters"].items():
        d = f["distribution"]
        dist = f"{d['p5']:g} / {d['median']:g} / {d['p95']:g}" if d else "-"
        state = f["rule"] if f["enabled"] else "off"
        lines.append(
            f"| {name} | {state} | {f['rejected']} | {f['only_this']} | {dist} | {', '.join(f['examples'])} |"
        )
    if report["failed"]:
        lines += [
            "",
            "Unreadable or failed sources:",
            *(f"- {r['source']}: {r['reason']}" for r in report["failed"]),
        ]
    if report["pairs"]:
        lines += ["", "| parameter | min | median | max |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {p} | {q['min']:g} | {q['median']:g} | {q['max']:g} |" for p, q in report["params"].items()
        ]
    return "\n".join(lines) + "\n"


def write_report(report: dict, out: Path) -> tuple[Path, Path]:
    paths = (out / "report.json", out / "report.md")
    with atomic_path(paths[0]) as tmp:
        tmp.write_text(json.dumps(report, indent=2) + "\n")
    with atomic_path(paths[1]) as tmp:
        tmp.write_text(to_markdown(report))
    return paths
