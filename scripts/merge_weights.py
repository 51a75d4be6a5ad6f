"""Start a training round from two sets of weights: the Attention-Net (and the gate settings) of one, the local
stages (Noise-, Enhancement- and Reinforce-Nets) of another. Both must share one architecture.

    python scripts/merge_weights.py --attention agllnet-look-5 --local agllnet-noise --out runs/hybrid-a5-noise/model

Used for configs/agllnet-look-7.yaml: `agllnet-look-5`'s attention map decides where the gate lets the network
act (well-exposed photos kept), `agllnet-noise`'s local stages are the strongest we have on dark pairs.
"""

from __future__ import annotations

import argparse

NOT_ARCHITECTURE = ("attention_gate", "attention_gate_blur", "notes")
"""AgLLNetConfig fields that do not shape the network (the merge takes them from the --attention weights)."""


def main() -> None:
    from lowlight_cli.weights.store import load_model, save_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attention", required=True, help="weights whose Attention-Net and gate settings are kept")
    parser.add_argument("--local", required=True, help="weights whose local stages are kept")
    parser.add_argument("--out", required=True, help="folder to write (model.safetensors + config.json)")
    args = parser.parse_args()
    attention, local = load_model(args.attention), load_model(args.local)
    arch = lambda config: {k: v for k, v in config.to_dict().items() if k not in NOT_ARCHITECTURE}  # noqa: E731
    if arch(attention.config) != arch(local.config):
        raise SystemExit(f"{args.attention} and {args.local} differ in architecture")
    attention.noise_net.load_state_dict(local.noise_net.state_dict())
    attention.enhancement_net.load_state_dict(local.enhancement_net.state_dict())
    attention.reinforce_net.load_state_dict(local.reinforce_net.state_dict())
    save_model(attention, args.out, {"init": f"Attention-Net and gate of {args.attention}, local stages of {args.local}"})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
