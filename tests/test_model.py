"""The network itself: size, named outputs, the Noise-Net variant, config and weights round trips."""

from __future__ import annotations

import json

import pytest
import torch

from lowlight_cli.errors import WeightsError
from lowlight_cli.models.agllnet import AgLLNet
from lowlight_cli.models.config import AgLLNetConfig
from lowlight_cli.weights.model_io import load_model, save_model


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_released_architecture_has_the_published_parameter_count():
    model = AgLLNet(AgLLNetConfig.official())
    assert n_params(model) == 925_578
    assert n_params(model.attention_net) == 368_409
    assert n_params(model.enhancement_net) == 519_966
    assert n_params(model.reinforce_net) == 37_203
    assert model.noise_net is None


def test_outputs_are_named_and_shaped():
    torch.manual_seed(0)
    model = AgLLNet().eval()
    x = torch.rand(2, 3, 128, 256)
    with torch.no_grad():
        out = model(x)
    assert out.attention.shape == (2, 1, 128, 256)
    assert out.enhanced.shape == out.reinforced.shape == out.brightened.shape == (2, 3, 128, 256)
    assert out.noise is None
    assert 0 <= out.attention.min() and out.attention.max() <= 1
    # X = I / (1.00001 - A): the pre-brightening never darkens
    assert torch.all(out.brightened >= x - 1e-6)


def test_noise_variant_builds_runs_and_round_trips(tmp_path):
    torch.manual_seed(0)
    model = AgLLNet(AgLLNetConfig.noise_variant()).eval()
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        out = model(x)
    assert out.noise is not None and out.noise.shape == (1, 3, 128, 128)
    assert torch.all(out.noise >= 0)
    save_model(model, tmp_path / "w")
    again = load_model(tmp_path / "w")
    assert again.config == model.config and again.noise_net is not None
    with torch.no_grad():
        out2 = again(x)
    assert torch.equal(out.reinforced, out2.reinforced) and torch.equal(out.noise, out2.noise)


def test_config_round_trip_and_rejection():
    cfg = AgLLNetConfig(noise_net=True, can_dilations=(2, 4, 8))
    assert AgLLNetConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(WeightsError, match="unknown keys"):
        AgLLNetConfig.from_dict({**cfg.to_dict(), "bogus": 1})
    with pytest.raises(WeightsError, match="unknown branch"):
        AgLLNetConfig(branches=("can",) * 9 + ("vit",))


def test_tampered_weights_are_rejected_by_sha256(tmp_path):
    save_model(AgLLNet(), tmp_path)
    data = bytearray((tmp_path / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="sha256"):
        load_model(tmp_path)


def test_weights_for_another_architecture_are_rejected(tmp_path):
    save_model(AgLLNet(AgLLNetConfig.noise_variant()), tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["config"]["noise_net"] = False
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(WeightsError, match="do not fit"):
        load_model(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("variant", [AgLLNetConfig.official(), AgLLNetConfig.noise_variant()])
def test_local_radius_bounds_the_true_receptive_field(variant):
    """Perturbing one pixel must not change outputs farther away than `local_radius` (tiling relies on it)."""
    torch.manual_seed(0)
    model = AgLLNet(variant).eval()
    size, r = 640, variant.local_radius
    assert 2 * r < size
    x = torch.rand(1, 3, size, size) * 0.3
    a = torch.rand(1, 1, size, size) * 0.5
    y = x.clone()
    c = size // 2
    y[..., c, c] += 0.5
    with torch.no_grad():
        diff = (model.local(x, a).reinforced - model.local(y, a).reinforced).abs().amax(dim=(0, 1))
    changed = torch.nonzero(diff > 0)
    assert len(changed) > 0
    assert (changed - c).abs().max() <= r


def test_attention_gate_keeps_the_input_where_the_map_says_well_exposed_and_survives_a_round_trip(tmp_path):
    """With `attention_gate` (low, high): result == input where A <= low, == the reinforced image where
    A >= high, a blend in between; without it, result is the reinforced image (the paper)."""
    from lowlight_cli.models.gate import gate_weight

    torch.manual_seed(0)
    plain = AgLLNet(AgLLNetConfig.noise_variant()).eval()
    gated = AgLLNet(AgLLNetConfig(noise_net=True, attention_gate=(0.2, 0.6))).eval()
    gated.load_state_dict(plain.state_dict())
    x = torch.rand(1, 3, 128, 128)
    a = torch.linspace(0, 1, 128).expand(1, 1, 128, 128).contiguous()  # A rises left to right
    with torch.no_grad():
        p, g = plain.local(x, a), gated.local(x, a)
    assert torch.equal(p.result, p.reinforced)
    assert torch.equal(g.reinforced, p.reinforced)
    low, high = a[0, 0, 0] <= 0.2, a[0, 0, 0] >= 0.6
    torch.testing.assert_close(g.result[..., low], x[..., low], rtol=0, atol=1e-6)
    torch.testing.assert_close(g.result[..., high], p.reinforced[..., high], rtol=0, atol=1e-6)
    w = gate_weight(a, (0.2, 0.6))
    assert torch.all(w[..., 1:] >= w[..., :-1]) and 0 < float(w[0, 0, 0, 64]) < 1
    save_model(gated, tmp_path / "w")
    assert load_model(tmp_path / "w").config.attention_gate == (0.2, 0.6)
    with pytest.raises(WeightsError, match="attention_gate"):
        AgLLNetConfig(attention_gate=(0.6, 0.2))
