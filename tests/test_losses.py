"""The VGG-free loss terms against haze and blur (`training.losses`), each switched on by its own weight."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from lowlight_cli.training import losses as L


def photo(seed: int = 0, size: int = 64) -> torch.Tensor:
    """A textured image with dark parts: smooth blobs plus fine detail, in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    base = F.interpolate(
        torch.rand(2, 3, 8, 8, generator=g), size=(size, size), mode="bilinear", align_corners=False
    )
    return (base**2 * 0.8 + 0.2 * torch.rand(2, 3, size, size, generator=g) * base).clamp(0, 1)


def blurred(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), 5, stride=1)


def test_ssim_equals_torchmetrics():
    from torchmetrics.functional.image import structural_similarity_index_measure as tm_ssim

    x, y = photo(0, 72), photo(1, 72)[..., :72, :60]
    x = x[..., :60]
    assert abs(float(L.ssim(x, y)) - float(tm_ssim(x, y, data_range=1.0))) < 1e-5
    assert abs(float(L.ssim(x, x)) - 1.0) < 1e-6


@pytest.mark.parametrize("term", [L.gradient_loss, L.frequency_loss, L.exposure_normalised_loss])
def test_sharpness_terms_are_zero_at_the_target_and_see_a_blur(term):
    t = photo()
    assert float(term(t, t)) < 1e-6
    assert float(term(blurred(t), t)) > 1e-3


def test_exposure_normalised_term_ignores_the_exposure_and_sees_the_structure():
    t = photo()
    assert float(L.exposure_normalised_loss(t * 0.5, t)) < 1e-6
    assert float(L.exposure_normalised_loss(blurred(t) * 0.5, t)) > 1e-3


def test_black_term_punishes_lifted_blacks_only():
    t = photo() * 0.2  # mostly under the black threshold
    fog = t + 0.05
    darker = t * 0.5
    assert float(L.black_loss(t, t, 0.1)) == 0.0
    assert float(L.black_loss(fog, t, 0.1)) > 0.01
    assert float(L.black_loss(darker, t, 0.1)) == 0.0
    bright = photo() * 0.5 + 0.5  # nothing black in the target: nothing to punish
    assert float(L.black_loss(bright + 0.1, bright, 0.1)) == 0.0


@pytest.mark.parametrize("name", ["gradient", "frequency", "exposure_normalised", "black"])
def test_each_term_is_a_loss_weight_that_changes_the_total_only_when_on(name):
    t = photo() * 0.3
    pred = blurred(t) + 0.03
    preds = {"attention": torch.zeros(2, 1, 64, 64), "enhanced": pred, "result": pred}
    batch = {"high": t, "attention": torch.zeros(2, 1, 64, 64)}
    off = L.LossWeights(region=0.0)
    on = dataclasses.replace(off, **{name: 1.0})
    total = lambda w: float(L.AgLLNetLoss(w)(preds, batch, ("enhance", "reinforce"), "high")["total"])  # noqa: E731
    assert total(on) > total(off)
    assert L.LossWeights().__getattribute__(name) == 0.0  # off unless a config asks for it


def test_attention_gain_term_tells_apart_what_the_l2_on_the_map_does_not():
    """A = 0.90 against 0.98 is a gain of 10 against 50: a small L2 on the map, a large log-gain error."""
    target = torch.full((1, 1, 8, 8), 0.98)
    close = torch.full((1, 1, 8, 8), 0.90)
    assert float(L.attention_loss(close, target)) < 0.01
    assert float(L.attention_gain_loss(close, target)) > 1.0
    assert float(L.attention_gain_loss(target, target)) == 0.0
    preds = {"attention": close}
    batch = {"attention": target}
    total = lambda w: float(L.AgLLNetLoss(w)(preds, batch, ("attention",))["total"])  # noqa: E731
    assert total(L.LossWeights(attention_gain=1.0)) > total(L.LossWeights()) + 1.0
