"""AgLLNet-Lite: cost, receptive field (exact tiling), weights and ONNX round trips, training from scratch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lowlight_cli.models.agllnet import AgLLNet
from lowlight_cli.models.config import LiteConfig, config_from_dict
from lowlight_cli.models.lite import AgLLNetLite


def randomised(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Every weight drawn at random: the zero-initialised heads would hide the receptive field."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(
                torch.randn(p.shape, generator=g)
                * (0.5 / max(1, p[0].numel()) ** 0.5 if p.ndim > 1 else 0.05)
            )
    return model.eval()


def flops_per_pixel(model: torch.nn.Module, side: int = 128) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.rand(1, 3, side, side))
    return counter.get_total_flops() / side**2


def test_lite_costs_at_most_an_eighth_of_agllnet_per_pixel():
    lite, full = flops_per_pixel(AgLLNetLite().eval()), flops_per_pixel(AgLLNet().eval())
    assert lite * 8 <= full, (lite, full)


def test_lite_local_radius_bounds_the_true_receptive_field():
    """Perturbing one pixel changes no output farther than `local_radius`, and the bound is not loose."""
    torch.manual_seed(0)
    model = randomised(AgLLNetLite())
    r, size = model.config.local_radius, 320
    x = torch.rand(1, 3, size, size) * 0.3
    a = torch.rand(1, 1, size, size) * 0.8
    y = x.clone()
    c = size // 2
    y[..., c, c] += 0.5
    with torch.no_grad():
        diff = (model.local(x, a).reinforced - model.local(y, a).reinforced).abs().amax(dim=(0, 1))
    reach = int((torch.nonzero(diff > 0) - c).abs().max())
    assert 0.5 * r <= reach <= r, (reach, r)


def test_lite_tiles_give_the_untiled_result():
    """Tiles aligned to `local_multiple` with a margin of `local_radius`: the same image to float rounding."""
    from lowlight_cli.inference.backends import TorchBackend
    from lowlight_cli.inference.enhancer import Enhancer

    model = randomised(AgLLNetLite())
    rng = np.random.default_rng(0)
    image = (rng.random((200, 296, 3)) * 0.3).astype(np.float32)
    whole = Enhancer(backend=TorchBackend(model), tile=0).enhance(image).image
    for tile in (64, 100):
        tiled = Enhancer(backend=TorchBackend(model), tile=tile).enhance(image).image
        assert np.abs(tiled - whole).max() < 1e-5, tile


def test_lite_config_round_trips_and_names_its_arch(tmp_path):
    from lowlight_cli.weights.model_io import load_model, save_model

    cfg = LiteConfig(widths=(8, 16, 24), branch_dilations=(1, 3), attention_gate=(0.2, 0.5))
    assert config_from_dict(cfg.to_dict()) == cfg
    model = randomised(AgLLNetLite(cfg))
    save_model(model, tmp_path / "w")
    loaded = load_model(tmp_path / "w")
    assert isinstance(loaded, AgLLNetLite) and loaded.config == cfg
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x).result, model(x).result)


def test_lite_exports_to_onnx_and_runs_on_onnxruntime(tmp_path):
    from lowlight_cli.weights.onnx_export import compare_stages, export_onnx

    model = randomised(AgLLNetLite(LiteConfig(widths=(8, 16, 16), attention_channels=(8, 8, 8, 8, 8))))
    folder = export_onnx(model, tmp_path / "onnx")
    diffs = compare_stages(model, folder)
    assert max(diffs.values()) < 1e-4, diffs


def test_lite_gain_maps_black_to_black_and_keeps_a_well_exposed_prior():
    """The enhancement is a gain of the denoised image: zero input and zero noise estimate give zero out of
    the Enhancement-Net; with A = 0 and the zero-initialised heads the gain is 1 (the photo unchanged)."""
    model = AgLLNetLite().eval()
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        out = model.local(x, torch.zeros(1, 1, 128, 128))
        torch.testing.assert_close(out.reinforced, x, rtol=0, atol=1e-4)
        dark = model.local(torch.zeros(1, 3, 128, 128), torch.full((1, 1, 128, 128), 0.9))
    assert float(dark.enhanced.abs().max()) == 0.0


def test_lite_trains_from_scratch_with_every_new_loss_term(tmp_path):
    from _synthdata import make_synth_dir

    from lowlight_cli.training.run_config import TrainConfig
    from lowlight_cli.training.trainer import train

    data = make_synth_dir(tmp_path / "synth")
    base = TrainConfig().to_dict() | {
        "data": str(data),
        "out": str(tmp_path / "run"),
        "init": "scratch",
        "arch": "agllnet-lite",
        "model": {"widths": [4, 8, 8], "attention_channels": [4, 4, 4, 4, 4], "reinforce_channels": 4},
        "crop": 128,
        "val_crop": 128,
        "batch": 2,
        "workers": 0,
        "val_every": 2,
        "ckpt_every": 2,
        "log_every": 1,
        "val_images": 2,
        "stages": [{"name": "joint", "steps": 2}],
        "losses": {"gradient": 1.0, "frequency": 1.0, "exposure_normalised": 1.0, "black": 1.0},
    }
    metrics = train(TrainConfig.from_dict(base))
    assert np.isfinite(metrics["psnr"])
    from lowlight_cli.weights.model_io import load_model

    assert isinstance(load_model(tmp_path / "run" / "model"), AgLLNetLite)


@pytest.mark.parametrize("side", [128, 256])
def test_lite_attention_map_is_a_probability_at_every_multiple(side):
    model = randomised(AgLLNetLite())
    with torch.no_grad():
        a = model.attention(torch.rand(2, 3, side, side + 128))
    assert a.shape == (2, 1, side, side + 128) and float(a.min()) >= 0 and float(a.max()) <= 1


def test_lite_noise_estimate_has_no_local_mean_so_it_cannot_lift_blacks():
    """The estimate the Enhancement-Net subtracts has its local mean removed: over any 32x32 block it averages
    to almost nothing, so it takes out grain and cannot add a brightness offset (which the gain would
    amplify)."""
    import torch.nn.functional as F

    from lowlight_cli.models.lite import NOISE_MEAN_SIZE

    model = randomised(AgLLNetLite(), seed=3)
    x = torch.rand(1, 3, 128, 128) * 0.1
    with torch.no_grad():
        out = model.local(x, model.attention(x))
    assert NOISE_MEAN_SIZE < 32
    block_mean = F.avg_pool2d(out.noise, 32)
    assert float(out.noise.abs().mean()) > 1e-3
    assert float(block_mean.abs().max()) < 0.1 * float(out.noise.abs().mean())
