"""A run's training state (weights, EMA, optimizer, scheduler, RNG states, step) as one safetensors file.

The state is a tree of dicts, lists and tuples whose leaves are tensors and JSON scalars. The tensors are
stored as safetensors under their path in the tree ("optimizer/state/0/exp_avg"), and the rest of the tree
goes in the file's metadata as JSON, with each tensor replaced by its path. Nothing is pickled, so loading a
checkpoint runs no code from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

STRUCTURE = "lowlight-training-state/1"
"""The metadata key holding the JSON tree (and the format's version)."""


def _flatten(node: Any, path: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(node, torch.Tensor):
        tensors[path] = node.detach().cpu().contiguous()
        return {"tensor": path}
    if isinstance(node, dict):
        return {"dict": [[k, _flatten(v, f"{path}/{k}", tensors)] for k, v in node.items()]}
    if isinstance(node, (list, tuple)):
        items = [_flatten(v, f"{path}/{i}", tensors) for i, v in enumerate(node)]
        return {"tuple" if isinstance(node, tuple) else "list": items}
    if node is None or isinstance(node, (bool, int, float, str)):
        return {"value": node}
    raise TypeError(
        f"training state: {path or '/'} holds a {type(node).__name__}, not a tensor or JSON value"
    )


def _unflatten(node: dict, tensors: dict[str, torch.Tensor]) -> Any:
    ((kind, body),) = node.items()
    if kind == "tensor":
        return tensors[body]
    if kind == "dict":
        return {k: _unflatten(v, tensors) for k, v in body}
    if kind in ("list", "tuple"):
        items = [_unflatten(v, tensors) for v in body]
        return tuple(items) if kind == "tuple" else items
    return body


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write `state` to `path` (not atomic by itself: write to a temporary name and rename)."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    tree = _flatten(state, "", tensors)
    save_file(tensors, str(path), metadata={STRUCTURE: json.dumps(tree)})


def load_state(path: Path, device: str | torch.device = "cpu") -> dict[str, Any]:
    """The state `save_state` wrote, its tensors on `device`."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path), device=str(device))
    except SafetensorError as e:
        raise ValueError(f"{path}: not a safetensors file ({e})") from None
    if STRUCTURE not in metadata:
        raise ValueError(f"{path}: not a lowlight training state (no {STRUCTURE} metadata)")
    return _unflatten(json.loads(metadata[STRUCTURE]), tensors)
