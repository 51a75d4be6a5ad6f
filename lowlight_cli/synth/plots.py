"""Histograms for `--report`: the filter metrics with their thresholds, and the sampled parameters
with their ranges (so a glance shows the draws fill their ranges)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lowlight_cli.synth.report import METRICS, PARAMS, THRESHOLDS
from lowlight_cli.synth.settings import SynthSettings


def _figure(rows: int, cols: int):
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), constrained_layout=True)
    return plt, fig, axes.ravel()


def filter_histograms(evaluated: list[dict], settings: SynthSettings, dest: Path) -> Path:
    """One panel per filter metric over every evaluated image, the threshold as a red line."""
    plt, fig, axes = _figure(1, len(METRICS))
    for ax, (name, metric) in zip(axes, METRICS.items(), strict=True):
        values = [r["metrics"][metric] for r in evaluated if metric in r["metrics"]]
        if name == "blur" and values:  # spans decades: log-spaced bins on a log axis
            ax.hist(
                values, bins=np.geomspace(max(min(values), 1.0), max(max(values), 2.0), 40), color="#4c72b0"
            )
            ax.set_xscale("log")
        else:
            ax.hist(values, bins=40, color="#4c72b0")
        ax.axvline(getattr(settings, THRESHOLDS[name]), color="red", label="threshold")
        ax.set_title(f"{name}: {metric} (n={len(values)})", fontsize=9)
        ax.legend(fontsize=8)
    fig.savefig(dest, dpi=110)
    plt.close(fig)
    return dest


def param_histograms(pairs: list[dict], settings: SynthSettings, dest: Path) -> Path:
    """One panel per sampled parameter, the configured range shaded."""
    plt, fig, axes = _figure(2, (len(PARAMS) + 1) // 2)
    # strict=False: an odd number of parameters leaves the last panel of the grid empty
    for ax, name in zip(axes, PARAMS, strict=False):
        low, high = getattr(settings, name)
        ax.axvspan(low, high, color="#dddddd", label="range")
        ax.hist([r["params"][name] for r in pairs], bins=20, color="#55a868")
        margin = 0.1 * (high - low)
        ax.set_xlim(low - margin, high + margin)
        ax.set_title(f"{name} (n={len(pairs)})", fontsize=9)
        ax.legend(fontsize=8)
    fig.savefig(dest, dpi=110)
    plt.close(fig)
    return dest
