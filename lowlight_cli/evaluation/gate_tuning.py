"""Choose the attention gate of a set of weights (`AgLLNetConfig.attention_gate` and `attention_gate_blur`) on
validation sets: what `lowlight tune-gate` runs.

The network runs once per validation image without a gate (a gate the weights carry is set aside); each
candidate gate (thresholds, and the blur of the map) then blends its result with the input as inference does
(`inference.whole_image_gate.gate_map`, `models.gate.gated`), except that it blends the clipped result where
inference blends before clipping (they differ only where the network overshoots [0, 1] and the gate is
part-open). Two validation sets, neither of them a test set:
- `photos-val` (`photos`): well-exposed photos, each its own target (do no harm);
- `synth-val` (`pairs`): synthesized validation pairs (dark, dim and well-exposed, with camera noise), or any
  paired folder `lowlight eval` reads. `synth-val-dark` is the part of them made by the paper's darkening
  (exposure `dark` in the synth manifest).
The rule: among the gates that bring `photos-val` to the do-no-harm target (PSNR against the input >=
DO_NO_HARM_DB) and cost the dark pairs nothing (`synth-val-dark` at most DARK_SLACK_DB below the network
without a gate: the gate protects well-exposed photos, it must not hold back dark ones), the one with the best
`synth-val` PSNR.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lowlight_cli.errors import LowlightError
from lowlight_cli.inference import DEFAULT_BACKEND

GATES: tuple[tuple[float, float], ...] = tuple(
    (lo, round(lo + width, 2))
    for lo in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35)
    for width in (0.1, 0.2, 0.3, 0.4, 0.5)
)
"""Candidate gates (low, high): the input below `low` on the map, the network's result above `high`."""
BLURS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)
"""`AgLLNetConfig.attention_gate_blur` values tried with every gate (share of the longer side)."""
DO_NO_HARM_DB = 25.0
DARK_SLACK_DB = 0.1
PSNR_CAP = 100.0
"""PSNR of an image equal to its target (a gate that keeps a photo whole), instead of infinity."""
PHOTOS, PAIRS, DARK = "photos-val", "synth-val", "synth-val-dark"
"""The sets' names: their columns in the CSV."""
Gate = tuple[float, float]


@dataclass(frozen=True)
class Row:
    """One candidate: its gate (None: no gate, the network everywhere), blur, and mean PSNR per set."""

    gate: Gate | None
    blur: float
    psnr: dict[str, float]

    @property
    def label(self) -> str:
        return "none" if self.gate is None else f"{self.gate[0]:g}-{self.gate[1]:g}"


@dataclass(frozen=True)
class GateTuning:
    rows: tuple[Row, ...]
    """Every candidate; the first is no gate."""
    chosen: Row | None
    """What the rule picks; None when no gate meets it."""
    best_by_blur: dict[float, Row | None]
    """The rule's pick among each blur's gates."""
    images: dict[str, int]
    """Images per set."""
    set_aside: Gate | None
    """The gate the weights carry, set aside while measuring."""


def check_candidates(gates: Sequence[Gate], blurs: Sequence[float]) -> None:
    if not gates or any(not 0 <= lo < hi <= 1 for lo, hi in gates):
        raise LowlightError(
            f"gates {list(gates)}: each must be (low, high) with 0 <= low < high <= 1", param="gates"
        )
    if not blurs or any(b < 0 for b in blurs):
        raise LowlightError(f"blurs {list(blurs)}: give one or more shares of 0 or more", param="blurs")


def choose(rows: Sequence[Row], blurs: Sequence[float] = BLURS) -> tuple[Row | None, dict[float, Row | None]]:
    """The rule (module docstring) over measured `rows` (rows[0]: no gate): the chosen gate, and the choice
    within each blur."""
    dark_floor = rows[0].psnr.get(DARK, float("-inf")) - DARK_SLACK_DB  # no dark pairs: no floor
    eligible = [
        r
        for r in rows
        if r.gate is not None
        and r.psnr[PHOTOS] >= DO_NO_HARM_DB
        and r.psnr.get(DARK, float("inf")) >= dark_floor
    ]

    def best(pool: list[Row]) -> Row | None:
        return max(pool, key=lambda r: r.psnr[PAIRS]) if pool else None

    return best(eligible), {b: best([r for r in eligible if r.blur == b]) for b in blurs}


def tune_gate(
    weights: str,
    photos: str | Path,
    pairs: str | Path,
    split: str | None = None,
    *,
    gates: Sequence[Gate] = GATES,
    blurs: Sequence[float] = BLURS,
    device: str = "auto",
    backend: str = DEFAULT_BACKEND,
    limit: int | None = None,
    out: str | Path | None = None,
    on_image: Callable[[str, str], None] | None = None,
) -> GateTuning:
    """Measure every gate in `gates` x `blurs` (and no gate) on the well-exposed `photos` and the validation
    `pairs` (their `split`, as `lowlight eval --split` reads it; a synth folder's default is test), at most
    `limit` images of each, and choose one by the rule. `out`: a CSV file for the rows (`write_csv`), checked
    writable before the work. `on_image(set, name)` after each image."""
    from lowlight_cli.evaluation.evaluate import find_samples
    from lowlight_cli.evaluation.metrics import psnr_images
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.whole_image_gate import gate_map
    from lowlight_cli.io.atomic import check_writable_dir
    from lowlight_cli.models.gate import gated

    check_candidates(gates, blurs)
    if out is not None:
        check_writable_dir(Path(out).parent)
    sets = {
        PHOTOS: find_samples(photos, None, self_target=True, limit=limit),
        PAIRS: find_samples(pairs, split, limit=limit),
    }
    unpaired = [s.name for s in sets[PAIRS] if s.pair is None]
    if unpaired:
        raise LowlightError(
            f"pairs {pairs}: photos without targets ({unpaired[0]}, ...); "
            "give a synth folder or low/ + high/ folders",
            param="pairs",
        )
    # the network's result everywhere: each candidate gates it
    enhancer = Enhancer(weights, device=device, backend=backend, gate=False)
    config = enhancer.backend.config
    candidates: list[tuple[Gate | None, float]] = [(None, 0.0)] + [(g, b) for b in blurs for g in gates]
    scores: dict[tuple[Gate | None, float], dict[str, list[float]]] = {c: {} for c in candidates}
    for set_name, samples in sets.items():
        for sample in samples:
            low, high = sample.read()  # photos: high is the photo itself
            assert high is not None
            dark = sample.pair is not None and sample.pair.params.get("exposure") == "dark"
            result = enhancer.enhance(low)
            maps = {b: gate_map(result.attention, b)[..., None] for b in blurs}
            for gate, blur in candidates:
                image = result.image if gate is None else gated(low, result.image, maps[blur], gate)
                psnr = min(psnr_images(np.clip(image, 0, 1), high), PSNR_CAP)
                for name in (set_name, DARK) if dark else (set_name,):
                    scores[(gate, blur)].setdefault(name, []).append(psnr)
            if on_image:
                on_image(set_name, sample.name)
    rows = tuple(
        Row(g, b, {s: round(float(np.mean(v)), 3) for s, v in per_set.items()})
        for (g, b), per_set in scores.items()
    )
    chosen, by_blur = choose(rows, blurs)
    images = {name: len(samples) for name, samples in sets.items()}
    tuning = GateTuning(rows, chosen, by_blur, images, config.attention_gate)
    if out is not None:
        write_csv(tuning, out)
    return tuning


def write_csv(tuning: GateTuning, path: str | Path) -> Path:
    """The measured rows as CSV (gate, blur and each set's mean PSNR), written atomically."""
    from lowlight_cli.io.atomic import atomic_path

    path = Path(path)
    columns = ["gate", "blur", PHOTOS, PAIRS, DARK]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows({"gate": r.label, "blur": r.blur, **r.psnr} for r in tuning.rows)
    return path
