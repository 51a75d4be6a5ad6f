"""The attention gate at inference (`inference.whole_image_gate`): it reads the whole image's map, smoothed,
after the tiles are stitched; the graphs stop before it; older graphs with the gate inside are refused for
gated weights."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from lowlight_cli.errors import WeightsError
from lowlight_cli.inference.backends import TorchBackend
from lowlight_cli.inference.enhancer import Enhancer
from lowlight_cli.inference.whole_image_gate import gate_map
from lowlight_cli.models.agllnet import AgLLNet
from lowlight_cli.models.config import AgLLNetConfig
from lowlight_cli.models.gate import gate_weight
from lowlight_cli.weights.registry import ONNX_FORMAT_UNGATED, ONNX_MANIFEST, resolve_onnx

ROOT_DATA = Path(__file__).parent / "data"


def _step_map(h: int = 96, w: int = 160) -> np.ndarray:
    """0.1 on the left half, 0.3 on the right: a sharp gate (0.15, 0.25) flips from 0 to 1 at the middle."""
    a = np.full((h, w), 0.1, np.float32)
    a[:, w // 2 :] = 0.3
    return a


def test_blur_zero_is_the_per_pixel_map_and_a_blur_spreads_a_step_over_a_share_of_the_image():
    a = _step_map()
    assert gate_map(a, 0.0) is a
    smooth = gate_map(a, 0.05)
    assert smooth.shape == a.shape and smooth.dtype == np.float32
    assert abs(float(smooth.mean()) - float(a.mean())) < 0.005  # a blur moves no mass
    w_sharp, w_smooth = gate_weight(a, (0.15, 0.25)), gate_weight(smooth, (0.15, 0.25))
    # The sharp gate jumps from 0 to 1 between two neighbouring columns; the blurred one rises over many.
    assert np.abs(np.diff(w_sharp, axis=1)).max() == 1.0
    assert np.abs(np.diff(w_smooth, axis=1)).max() < 0.2
    rising = (w_smooth[0] > 0.01) & (w_smooth[0] < 0.99)
    assert rising.sum() >= 0.05 * a.shape[1]
    # Large maps are blurred on a small copy, to the same result within a little.
    big = np.kron(a, np.ones((8, 8), np.float32))
    small_then_big = np.kron(smooth, np.ones((8, 8), np.float32))
    assert np.abs(gate_map(big, 0.05) - small_then_big).mean() < 0.01


def test_config_blur_is_checked():
    with pytest.raises(WeightsError, match="attention_gate_blur"):
        AgLLNetConfig(attention_gate=(0.1, 0.2), attention_gate_blur=-0.1)


@pytest.fixture(scope="module")
def gated_model():
    torch.manual_seed(0)
    return AgLLNet(AgLLNetConfig(noise_net=True, attention_gate=(0.3, 0.5), attention_gate_blur=0.05)).eval()


def test_the_enhancer_gates_on_the_whole_images_smoothed_map_so_tiling_does_not_change_it(
    gated_model, sample_rgb
):
    rgb = np.ascontiguousarray(sample_rgb[:192, :320])
    backend = TorchBackend(gated_model, device="cpu")
    whole = Enhancer(backend=backend, tile=0).enhance(rgb)
    tiled = Enhancer(backend=backend, tile=128).enhance(rgb)
    assert np.abs(whole.image - tiled.image).max() < 2e-3
    # What the gate did: the network's image where the smoothed map is high, the input where it is low.
    network = (
        Enhancer(backend=backend, tile=0, gate=False).enhance(rgb).image
    )  # --no-gate: the network everywhere
    plain = dataclasses.replace(gated_model.config, attention_gate=None)
    ungated = AgLLNet(plain).eval()
    ungated.load_state_dict(gated_model.state_dict())
    assert np.array_equal(
        network, Enhancer(backend=TorchBackend(ungated, device="cpu"), tile=0).enhance(rgb).image
    )
    w = gate_weight(gate_map(whole.attention, 0.05), (0.3, 0.5))[..., None]
    expected = np.clip(rgb + w * (network - rgb), 0, 1)
    inside = (network > 0) & (
        network < 1
    )  # the gate blends the unclipped image: compare where clipping did nothing
    assert inside.mean() > 0.2 and np.abs(whole.image - expected)[inside].max() < 1e-4
    assert 0 < float(w.mean()) < 1  # both sides of the gate occur in this photo


def test_graphs_stop_before_the_gate_and_older_gated_graphs_are_refused(gated_model, sample_rgb, tmp_path):
    from lowlight_cli.inference.onnx_backend import OnnxBackend
    from lowlight_cli.weights.onnx_export import export_onnx

    folder = export_onnx(gated_model, tmp_path / "onnx")
    rgb = np.ascontiguousarray(sample_rgb[:128, :256])
    via_onnx = Enhancer(backend=OnnxBackend(resolve_onnx(folder), device="cpu"), tile=0).enhance(rgb).image
    via_torch = Enhancer(backend=TorchBackend(gated_model, device="cpu"), tile=0).enhance(rgb).image
    assert np.abs(via_onnx - via_torch).max() < 1e-4
    old = shutil.copytree(folder, tmp_path / "old")
    manifest = json.loads((old / ONNX_MANIFEST).read_text())
    (old / ONNX_MANIFEST).write_text(json.dumps(manifest | {"format": ONNX_FORMAT_UNGATED}))
    with pytest.raises(WeightsError, match="re-run `lowlight export"):
        resolve_onnx(old)
    # An old export of weights without a gate is the same graph, and is read.
    manifest["config"]["attention_gate"] = None
    (old / ONNX_MANIFEST).write_text(json.dumps(manifest | {"format": ONNX_FORMAT_UNGATED}))
    assert resolve_onnx(old).config["attention_gate"] is None


def test_the_default_weights_return_a_well_exposed_photo_unchanged_and_no_gate_applies_the_network(tmp_path):
    """Do no harm, end to end: `lowlight enhance` with the default weights writes a well-exposed photo back
    pixel for pixel; `--no-gate` runs the network on it anyway (and changes it)."""
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app
    from lowlight_cli.io.images import read_image
    from lowlight_cli.weights.registry import BUNDLED, DEFAULT_WEIGHTS

    assert DEFAULT_WEIGHTS in BUNDLED
    photos = [
        ROOT_DATA / "synth" / f"{n}.jpg" for n in ("000000000785", "000000050811")
    ]  # well exposed (README there)
    for flag, folder in ((), "kept"), (("--no-gate",), "network"):
        result = CliRunner().invoke(
            app, ["enhance", *map(str, photos), "-o", str(tmp_path / folder), "--format", "png", "-q", *flag]
        )
        assert result.exit_code == 0, result.output
    for photo in photos:
        source = np.round(read_image(photo)[0] * 255)
        kept = np.round(read_image(tmp_path / "kept" / f"{photo.stem}.png")[0] * 255)
        network = np.round(read_image(tmp_path / "network" / f"{photo.stem}.png")[0] * 255)
        assert np.array_equal(source, kept), photo.name
        assert np.abs(network - source).mean() > 2, photo.name


def test_a_photo_the_gate_keeps_whole_skips_the_local_stages(sample_rgb):
    """The default weights on a well-exposed photo: the attention map alone decides, the costly local stages
    are not run, and the photo comes back exactly; a dark photo (the authors' sample) does run them."""
    from lowlight_cli.io.images import read_image

    enhancer = Enhancer()
    calls = []
    local = enhancer.backend.local
    enhancer.backend.local = lambda *a: calls.append(1) or local(*a)
    photo = read_image(ROOT_DATA / "synth" / "000000000785.jpg")[0]
    assert np.array_equal(enhancer.enhance(photo).image, photo) and calls == []
    enhancer.enhance(np.ascontiguousarray(sample_rgb[:256, :256]))
    assert calls


def test_fast_mode_gates_at_full_size_so_a_kept_photo_is_the_photo_itself():
    """In fast mode the network sees a small copy; its result comes back by a guided filter of luma, which
    cannot copy a photo's colours exactly. The gate therefore blends at full size: a well-exposed photo is
    returned exactly, and with --no-gate it is the guided-filter result."""
    from lowlight_cli.io.images import read_image

    photo = read_image(ROOT_DATA / "synth" / "000000000785.jpg")[0]
    fast, calls = Enhancer(fast=True), []
    local = fast.backend.local
    fast.backend.local = lambda *a: calls.append(1) or local(*a)
    assert (
        np.array_equal(fast.enhance(photo).image, photo) and calls == []
    )  # kept whole: no local stages either
    assert np.abs(Enhancer(fast=True, gate=False).enhance(photo).image - photo).mean() > 0.01


def test_video_gates_like_enhance_and_no_gate_reaches_it(tmp_path):
    """`lowlight video` with the default weights keeps a well-exposed clip's frames (up to the re-encode) and
    `--no-gate` runs the network on them: the switch reaches the video path, not only `enhance`."""
    import av
    from PIL import Image
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app

    photo = (
        Image.open(ROOT_DATA / "synth" / "000000000785.jpg").convert("RGB").resize((160, 112), Image.LANCZOS)
    )
    src = tmp_path / "day.mp4"
    with av.open(str(src), "w") as out:
        stream = out.add_stream("libx264", rate=12, width=160, height=112, options={"crf": "0"})
        stream.pix_fmt = "yuv444p"
        for _ in range(3):
            out.mux(
                stream.encode(
                    av.VideoFrame.from_ndarray(np.asarray(photo), format="rgb24").reformat(format="yuv444p")
                )
            )
        out.mux(stream.encode())

    def frames(path: Path) -> np.ndarray:
        with av.open(str(path)) as c:
            return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)]).astype(np.float32)

    for flag, name in ((), "kept.mp4"), (("--no-gate",), "network.mp4"):
        result = CliRunner().invoke(app, ["video", str(src), str(tmp_path / name), "--crf", "0", "-q", *flag])
        assert result.exit_code == 0, result.output
    source, kept, network = frames(src), frames(tmp_path / "kept.mp4"), frames(tmp_path / "network.mp4")
    assert source.shape == kept.shape == network.shape
    assert (
        np.abs(kept - source).mean() < 1.0
    )  # lossless re-encode of the same pixels (colour conversion aside)
    assert np.abs(network - source).mean() > 3.0
