"""The training state file: safetensors plus a JSON tree, nothing pickled."""

from __future__ import annotations

import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lowlight_cli.training.state_file import STRUCTURE, load_state, save_state  # noqa: E402


def test_a_training_state_round_trips_exactly(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    state = {
        "step": 7,
        "best_psnr": -float("inf"),
        "ema": None,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),  # int keys, nested dicts, 0-dim tensors
        "rng": {"torch": torch.get_rng_state(), "python": random.getstate()},  # a ByteTensor, tuples
        "halves": [torch.arange(4, dtype=torch.float16), torch.tensor([True, False])],
    }
    save_state(tmp_path / "s.safetensors", state)
    back = load_state(tmp_path / "s.safetensors")
    assert back["step"] == 7 and back["best_psnr"] == -float("inf") and back["ema"] is None
    assert back["rng"]["python"] == random.getstate() and isinstance(back["rng"]["python"], tuple)
    assert torch.equal(back["rng"]["torch"], state["rng"]["torch"])
    assert list(back["optimizer"]["state"]) == list(state["optimizer"]["state"]) == [0, 1]
    assert back["optimizer"]["param_groups"] == state["optimizer"]["param_groups"]
    for key in ("weight", "bias"):
        assert torch.equal(back["model"][key], state["model"][key])
        assert torch.equal(
            back["optimizer"]["state"][0]["exp_avg"], state["optimizer"]["state"][0]["exp_avg"]
        )
    assert [t.dtype for t in back["halves"]] == [torch.float16, torch.bool]
    restored = torch.optim.AdamW(model.parameters(), lr=1e-3)
    restored.load_state_dict(back["optimizer"])  # torch accepts what comes back


def test_the_file_is_plain_safetensors_with_its_tree_in_the_metadata(tmp_path):
    from safetensors import safe_open

    save_state(tmp_path / "s.safetensors", {"w": torch.zeros(2), "n": 3})
    with safe_open(str(tmp_path / "s.safetensors"), framework="pt") as f:
        assert list(f.keys()) == ["/w"] and STRUCTURE in (f.metadata() or {})


def test_only_tensors_and_json_values_are_stored(tmp_path):
    with pytest.raises(TypeError, match="/numpy holds a ndarray"):
        save_state(tmp_path / "s.safetensors", {"numpy": np.zeros(2)})
    (tmp_path / "other.safetensors").write_bytes(b"earlier run")
    with pytest.raises(ValueError, match="other.safetensors: not a safetensors file"):
        load_state(tmp_path / "other.safetensors")
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(1)}, str(tmp_path / "weights.safetensors"))  # weights, not a training state
    with pytest.raises(ValueError, match="not a lowlight training state"):
        load_state(tmp_path / "weights.safetensors")
