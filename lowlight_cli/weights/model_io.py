"""Weights on disk: `model.safetensors` plus `config.json` (architecture + sha256), nothing pickled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from lowlight_cli.errors import WeightsError
from lowlight_cli.models.build import build_model
from lowlight_cli.models.config import config_from_dict
from lowlight_cli.weights.files import read_config
from lowlight_cli.weights.registry import CONFIG_FILE, DEFAULT_WEIGHTS, FORMAT, WEIGHTS_FILE, sha256_of

if TYPE_CHECKING:
    from lowlight_cli.models.build import Network


def save_model(model: Network, directory: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write the weights and their config into `directory` (atomically); returns the directory."""
    from safetensors.torch import save_file

    from lowlight_cli.io.atomic import atomic_path

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_path(directory / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp), metadata={"format": "pt", "arch": model.config.arch})
    config = {
        "format": FORMAT,
        "arch": model.config.arch,
        "config": model.config.to_dict(),
        "sha256": sha256_of(directory / WEIGHTS_FILE),
        "metadata": metadata or {},
    }
    with atomic_path(directory / CONFIG_FILE) as tmp:
        tmp.write_text(json.dumps(config, indent=2) + "\n")
    return directory


def load_checkpoint(weights_file: Path, config_file: Path, expected_sha256: str | None = None) -> Network:
    """Rebuild the network its config describes and load verified weights into it."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    config = read_config(config_file)
    if not weights_file.is_file():
        raise WeightsError(f"{weights_file}: weights file not found")
    actual = sha256_of(weights_file)
    for expected in {e for e in (expected_sha256, config.get("sha256")) if e is not None}:
        if actual != expected:
            raise WeightsError(
                f"{weights_file}: sha256 {actual[:12]}… does not match the expected {expected[:12]}…"
            )
    model = build_model(config_from_dict(config["config"]))
    try:
        state = load_file(str(weights_file))
    except SafetensorError as exc:
        raise WeightsError(f"{weights_file}: not a valid safetensors file ({exc})") from None
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # tensor shapes that disagree with the config
        first = str(exc).split("\n")[1].strip() if "\n" in str(exc) else str(exc)
        raise WeightsError(f"{weights_file}: weights do not fit the config's network ({first})") from None
    if missing or unexpected:
        raise WeightsError(
            f"{weights_file}: weights do not fit the config's network "
            f"(missing {len(missing)}, unexpected {len(unexpected)} tensors)"
        )
    return model.eval()


def load_model(ref: str | Path = DEFAULT_WEIGHTS, device: str | torch.device = "cpu") -> Network:
    """Load weights by reference: a bundled name, a directory, a .safetensors file, or an hf:// address."""
    from lowlight_cli.weights.registry import resolve

    found = resolve(ref)
    return load_checkpoint(found.weights_file, found.config_file, found.sha256).to(device)
