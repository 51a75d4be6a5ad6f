"""Choose the attention gate's thresholds (`AgLLNetConfig.attention_gate`) on the validation sets.

    python scripts/gate_tuning.py --weights runs/agllnet-look-3/model

The network runs once per validation photo without a gate (a gate the weights carry is set aside); each
candidate gate (thresholds and blur of the map) then blends its result with the input as inference does
(`inference.whole_image_gate.gate_map`, `models.gate.gated`), except that it blends the clipped result where
inference blends before clipping (they differ only where the network overshoots [0, 1] and the gate is
part-open). Two validation sets, neither used by the look benchmark:
- `photos-val`: well-exposed held-out COCO-CC photos (index % 7 == 1), target = the photo itself;
- `synth-val`: the training run's validation pairs (dark, dim and well-exposed, with camera noise).
`synth-val-dark` is the part of `synth-val` made by the paper's darkening (exposure `dark` in its manifest),
the kind of pair the look benchmark's noisy synthetic test set holds.
The rule: among the gates that bring `photos-val` to the issue's do-no-harm target (PSNR against the
input >= DO_NO_HARM_DB) and cost the dark pairs nothing (`synth-val-dark` at most DARK_SLACK_DB below the
network without a gate: the gate protects well-exposed photos, it must not hold back dark ones), the one with
the best `synth-val` PSNR. Writes docs/results/gate/tuning.csv and prints the choice.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "photos-val": (ROOT / "data" / "look" / "photos" / "val", None, True),
    "synth-val": (ROOT / "data" / "look" / "synth-val", "test", False),
}
GATES = [
    (lo, round(lo + width, 2))
    for lo in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35)
    for width in (0.1, 0.2, 0.3, 0.4, 0.5)
]
BLURS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)
"""`AgLLNetConfig.attention_gate_blur` values tried with every gate (share of the longer side)."""
DO_NO_HARM_DB = 25.0
DARK_SLACK_DB = 0.1


def main() -> None:
    from lowlight_cli.evaluation.evaluate import find_samples
    from lowlight_cli.evaluation.metrics import psnr_images
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.whole_image_gate import gate_map
    from lowlight_cli.models.gate import gated
    from lowlight_cli.synth.store import iter_pairs

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--weights", required=True, help="weights (folder or bundled name); run without their gate"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "gate" / "tuning.csv")
    args = parser.parse_args()
    enhancer = Enhancer(
        args.weights, gate=False
    )  # the network's result everywhere: each candidate gate blends it
    if enhancer.backend.config.attention_gate is not None:
        print(f"{args.weights}: its gate {enhancer.backend.config.attention_gate} is set aside", flush=True)
    exposures = {r.name: r.params.get("exposure") for r in iter_pairs(SETS["synth-val"][0])}
    scores: dict[tuple, dict[str, list[float]]] = {}
    candidates = [(None, 0.0)] + [(g, b) for b in BLURS for g in GATES]
    for set_name, (data, split, self_target) in SETS.items():
        for sample in find_samples(data, split, self_target):
            low, high = sample.read()  # with self_target, high is the photo itself
            dark = exposures.get(sample.name) == "dark"
            result = enhancer.enhance(low)
            maps = {b: gate_map(result.attention, b)[..., None] for b in BLURS}
            for gate, blur in candidates:
                out = result.image if gate is None else gated(low, result.image, maps[blur], gate)
                psnr = min(psnr_images(np.clip(out, 0, 1), high), 100.0)
                for name in (set_name, f"{set_name}-dark") if dark else (set_name,):
                    scores.setdefault((gate, blur), {}).setdefault(name, []).append(psnr)
        print(f"{set_name}: {len(scores[(None, 0.0)][set_name])} images", flush=True)
    rows = [
        {
            "gate": "none" if g is None else f"{g[0]:g}-{g[1]:g}",
            "blur": b,
            **{s: round(float(np.mean(v)), 3) for s, v in per_set.items()},
        }
        for (g, b), per_set in scores.items()
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, ["gate", "blur", *SETS, "synth-val-dark"])
        writer.writeheader()
        writer.writerows(rows)
    dark_floor = (
        rows[0].get("synth-val-dark", float("-inf")) - DARK_SLACK_DB
    )  # rows[0]: no gate; no dark pairs: no floor
    eligible = [
        r
        for r in rows
        if r["gate"] != "none"
        and r["photos-val"] >= DO_NO_HARM_DB
        and r.get("synth-val-dark", float("inf")) >= dark_floor
    ]
    for r in rows:
        print(
            f"{r['gate']:>10} blur {r['blur']:<4g}  photos-val {r['photos-val']:6.2f}"
            f"  synth-val {r['synth-val']:6.2f}"
            f"  synth-val-dark {r.get('synth-val-dark', float('nan')):6.2f}"
        )
    for blur in BLURS:
        pool = [r for r in eligible if r["blur"] == blur]
        best = max(pool, key=lambda r: r["synth-val"]) if pool else None
        print(
            f"blur {blur:g}: "
            + (
                f"best gate {best['gate']}, synth-val {best['synth-val']:.2f}"
                if best
                else "no gate meets the rule"
            )
        )
    best = max(eligible, key=lambda r: r["synth-val"]) if eligible else None
    print(
        "chosen: "
        + (f"gate {best['gate']}, blur {best['blur']:g}" if best else "none (no gate meets the rule)")
    )


if __name__ == "__main__":
    main()
