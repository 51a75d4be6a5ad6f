"""`lowlight synth`: filters, synthesis ranges, determinism across workers, resume, shards, corrupt
sources, COCO download (local HTTP server) and the training loader."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import json
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lowlight_cli.errors import FileError
from lowlight_cli.io.images import read_rgb
from lowlight_cli.synth.manifest import load_pairs, merge, read_jsonl
from lowlight_cli.synth.pipeline import run, shard_of
from lowlight_cli.synth.select import evaluate
from lowlight_cli.synth.settings import DEFAULTS
from lowlight_cli.synth.sources import folder_or_glob

PHOTOS = Path(__file__).parent / "data" / "synth"
N_GOOD = 6


def good_image(seed: int, h: int = 96, w: int = 128) -> np.ndarray:
    """Bright, sharp, colourful: colour gradients plus fine texture (uint8 RGB)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    hue = rng.uniform(0, 1, 3)
    base = 0.55 + 0.35 * np.stack([np.sin(6 * x + 6 * hue[i] + 2 * i * y) for i in range(3)], axis=2)
    texture = rng.uniform(-0.12, 0.12, (h, w, 1))
    return np.round(np.clip(base + texture, 0, 1) * 255).astype(np.uint8)


def _save(path: Path, rgb: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """A folder of good photos in two sub-folders, one grey photo, a zero-byte and a truncated JPEG."""
    root = tmp_path_factory.mktemp("photos")
    for i in range(N_GOOD):
        _save(root / f"set{i % 2}" / f"img{i}.png", good_image(i))
    _save(
        root / "grey.png", np.repeat(good_image(99).mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    )
    (root / "empty.jpg").write_bytes(b"")
    buf = io.BytesIO()
    from PIL import Image

    Image.fromarray(good_image(7)).save(buf, format="JPEG")
    (root / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    return root


@pytest.fixture(scope="module")
def baseline(photos, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("baseline")
    run(folder_or_glob(str(photos)), out, DEFAULTS, workers=0)
    return out


def tree_bytes(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# ---- candidate selection


def test_filters_reject_dark_blurred_grey_and_keep_good():
    import cv2

    good = good_image(1)
    assert evaluate(good, DEFAULTS).failed == ()
    assert evaluate((good * 0.15).astype(np.uint8), DEFAULTS).failed[0] == "darkness"  # (and less contrast)
    assert evaluate(cv2.GaussianBlur(good, (0, 0), 3), DEFAULTS).failed == ("blur",)
    grey = np.repeat(good.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    assert evaluate(grey, DEFAULTS).failed == ("colour",)
    off = dataclasses.replace(DEFAULTS, darkness_filter=False, blur_filter=False, colour_filter=False)
    assert evaluate(grey, off).kept and evaluate(grey, off).metrics == {}


@pytest.mark.parametrize(
    "name, failed",
    [("000000000785.jpg", ()), ("000000022705.jpg", ("darkness",)), ("000000050811.jpg", ("blur",))],
)
def test_filters_on_real_photos(name, failed):

    assert evaluate(read_rgb(PHOTOS / name), DEFAULTS).failed == failed


# ---- synthesis


@pytest.mark.parametrize("pattern", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_bayer_mosaic_demosaic_round_trip(pattern):
    from lowlight_cli.synth.noise import demosaic, mosaic

    flat = np.broadcast_to(np.float32([0.8, 0.4, 0.1]), (8, 8, 3))
    np.testing.assert_allclose(
        demosaic(mosaic(flat, pattern), pattern)[2:-2, 2:-2], flat[2:-2, 2:-2], atol=1e-4
    )


def test_pairs_are_darker_with_parameters_in_range_and_consistent_targets(baseline, photos, tmp_path):
    from lowlight_cli.synth.lowlight import cast
    from lowlight_cli.synth.store import iter_pairs, read_pair

    pairs = load_pairs(baseline)
    assert len(pairs) == N_GOOD
    settings = dataclasses.replace(DEFAULTS, identity_share=0.0, mild_share=0.0)  # every pair dark: checkable
    dark = tmp_path / "all-dark"
    run(folder_or_glob(str(photos)), dark, settings, workers=0)
    for record in iter_pairs(dark):
        p = record.params
        assert p["exposure"] == "dark"
        for name in ("alpha", "beta", "gamma", "sigma_s", "sigma_c", "sigma_row", "crf_gamma"):
            low, high = getattr(DEFAULTS, name)
            assert low <= p[name] <= high, (name, p[name])
        a = read_pair(dark, record)
        assert a["low_clean"].mean() < a["high"].mean() and a["low"].mean() < a["high"].mean()
        expected = np.clip(p["beta"] * (p["alpha"] * a["high"]) ** p["gamma"], 0, 1)
        if p["cast"]:
            expected = cast(expected, p["cast"], p["cast_strength"], p["crf_gamma"])
        assert np.abs(a["low_clean"] - expected).max() <= 1 / 255 + 1e-6
        np.testing.assert_allclose(a["noise"], a["low"] - a["low_clean"], atol=3e-5)
        assert a["noise"].std() > 0.0005
        assert 0 <= a["attention"].min() and a["attention"].max() <= 1 and a["attention"].mean() > 0.2
        assert {k: v.shape[:2] for k, v in a.items()} == {k: (96, 128) for k in a}


def test_exposure_cast_and_jpeg_shares_follow_the_settings():
    from lowlight_cli.synth.pairs import sample_params

    rng = np.random.default_rng(1)
    draws = [sample_params(rng, DEFAULTS) for _ in range(4000)]
    share = lambda pred: np.mean([pred(p) for p in draws])  # noqa: E731
    assert abs(share(lambda p: p["exposure"] == "identity") - DEFAULTS.identity_share) < 0.03
    assert abs(share(lambda p: p["exposure"] == "mild") - DEFAULTS.mild_share) < 0.03
    assert abs(share(lambda p: p["cast"] is not None) - DEFAULTS.cast_share) < 0.03
    assert abs(share(lambda p: p["jpeg_quality"] is not None) - DEFAULTS.jpeg_share) < 0.03
    for p in draws:
        if p["exposure"] == "identity":
            assert (p["alpha"], p["beta"], p["gamma"]) == (1.0, 1.0, 1.0)
        elif p["exposure"] == "mild":
            assert DEFAULTS.mild_gamma[0] <= p["gamma"] <= DEFAULTS.mild_gamma[1]
        if p["jpeg_quality"] is not None:
            assert DEFAULTS.jpeg_quality[0] <= p["jpeg_quality"] <= DEFAULTS.jpeg_quality[1]


def test_ratio_darkening_keeps_each_pixels_colour_where_the_papers_curve_saturates_it():
    from lowlight_cli.colour import lab, mean_chroma, mean_luma
    from lowlight_cli.synth.lowlight import darken
    from lowlight_cli.synth.pairs import sample_params

    high = read_rgb(PHOTOS / "000000000785.jpg")
    paper, kept = darken(high, 0.95, 0.8, 3.0), darken(high, 0.95, 0.8, 3.0, keep_ratios=True)
    lit = high.sum(-1) > 0.3
    ratios = lambda x: x[lit] / x[lit].sum(-1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(ratios(kept), ratios(high), atol=1e-4)  # R:G:B kept, as less light would
    assert abs(mean_luma(kept) / mean_luma(paper) - 1) < 0.35  # about as dark
    drop = lambda low: mean_chroma(lab(low)) / mean_chroma(lab(high * (mean_luma(low) / mean_luma(high))))  # noqa: E731
    assert (
        drop(paper) > 1.5
    )  # more colourful than less light would make it (docs/synth.md#ratio-darkening: median 2.1)
    spread = lambda x: np.abs(ratios(x) - 1 / 3).mean()  # noqa: E731  (0 for grey)
    assert spread(paper) > 1.5 * spread(high)  # the per-channel power pushes every colour away from grey
    # The share is followed, identity pairs are never darkened, and with the default share 0 nothing is drawn,
    # so every earlier synthesis keeps its values.
    settings = dataclasses.replace(DEFAULTS, ratio_darkening_share=0.5)
    rng = np.random.default_rng(3)
    draws = [sample_params(rng, settings) for _ in range(2000)]
    darkened = [p for p in draws if p["exposure"] != "identity"]
    assert abs(np.mean([p["keep_ratios"] for p in darkened]) - 0.5) < 0.04
    assert not any(p["keep_ratios"] for p in draws if p["exposure"] == "identity")
    assert not any(
        "keep_ratios" in sample_params(rng, DEFAULTS) for _ in range(50)
    )  # the draw is inside that branch


def test_identity_pairs_keep_the_photo_as_input_and_target():
    from lowlight_cli.synth.pairs import synthesize

    high = read_rgb(PHOTOS / sorted(p.name for p in PHOTOS.glob("*.jpg"))[0])
    settings = dataclasses.replace(DEFAULTS, identity_share=1.0, cast_share=0.0, jpeg_share=0.0)
    pair = synthesize(high, np.random.default_rng(0), settings, amplify=False)
    assert pair.params["exposure"] == "identity"
    np.testing.assert_array_equal(pair.low_clean, high)
    assert np.abs(pair.low - high).mean() < 0.02  # light noise only
    assert pair.attention.mean() < 0.01  # nothing to brighten


@pytest.mark.parametrize("name", ["tungsten", "sodium", "fluorescent", "led-blue", "lol-red"])
def test_casts_tint_towards_the_illuminant_and_keep_grey_luma(name):
    from lowlight_cli.synth.lowlight import CASTS, LUMA, cast

    grey = np.full((4, 4, 3), 0.2, np.float32)
    tinted = cast(grey, name, 1.0)
    gain = np.float32(CASTS[name])
    assert np.argmax(tinted[0, 0]) == np.argmax(gain) and np.argmin(tinted[0, 0]) == np.argmin(gain)
    linear = tinted[0, 0] ** 2.2
    assert abs(float(linear @ LUMA) - 0.2**2.2) < 2e-3  # the gain is luma-normalised in linear light
    np.testing.assert_allclose(cast(grey, name, 0.0), grey, atol=1e-6)


def test_row_noise_makes_rows_differ():
    from lowlight_cli.synth.noise import camera_noise

    flat = np.full((64, 64, 3), 0.3, np.float32)
    plain = camera_noise(flat, np.random.default_rng(0), 0.0, 0.001, 2.2, "RGGB")
    banded = camera_noise(flat, np.random.default_rng(0), 0.0, 0.001, 2.2, "RGGB", sigma_row=0.01)
    assert banded.mean(axis=(1, 2)).std() > 5 * plain.mean(axis=(1, 2)).std()


def test_debiased_noise_keeps_a_dark_image_s_colour():
    """Clipping at black and the camera response bias noise per channel; `debias` removes that bias."""
    from lowlight_cli.synth.noise import camera_noise

    rng = np.random.default_rng(1)
    dark = (0.03 + 0.03 * rng.random((96, 96, 3))).astype(np.float32)
    args = (dark, 0.03, 0.005, 2.2, "RGGB")
    biased = camera_noise(args[0], np.random.default_rng(0), *args[1:])
    debiased = camera_noise(args[0], np.random.default_rng(0), *args[1:], debias=True)
    bias = lambda noisy: np.abs((noisy - dark).reshape(-1, 3).mean(0)).max()  # noqa: E731
    assert bias(biased) > 1e-3  # brightened 10x by a gamma, about 3 8-bit levels of cast
    assert bias(debiased) < 0.2 * bias(biased)
    assert (debiased - dark).std() > 0.5 * (biased - dark).std()  # the noise itself stays


# ---- pipeline


def test_output_is_byte_identical_for_one_and_two_workers(photos, tmp_path):
    sources = lambda: folder_or_glob(str(photos))  # noqa: E731
    run(sources(), tmp_path / "w1", DEFAULTS, workers=1)
    run(sources(), tmp_path / "w2", DEFAULTS, workers=2)
    one, two = tree_bytes(tmp_path / "w1"), tree_bytes(tmp_path / "w2")
    assert sum(k.endswith(".png") for k in one) == 6 * N_GOOD
    assert one == two


def test_corrupt_sources_are_skipped_and_reported(baseline):
    from lowlight_cli.synth.report import build_report, to_markdown

    skipped = list(read_jsonl(baseline / "skipped.jsonl"))
    failed = {r["source"] for r in skipped if r["status"] == "failed"}
    assert failed == {"empty.jpg", "truncated.jpg"}
    report = build_report(load_pairs(baseline), skipped, DEFAULTS)
    assert report["sources"] == N_GOOD + 3 and report["pairs"] == N_GOOD
    assert report["filters"]["colour"]["examples"] == ["grey.png"]
    assert "truncated.jpg" in to_markdown(report)


def test_resume_after_kill_skips_finished_pairs(photos, baseline, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(baseline, out)
    pairs = load_pairs(out)
    (out / pairs[1]["files"]["noise"]).unlink()  # killed after writing a few files of this pair
    manifest = out / "manifest.jsonl"
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text("".join(lines[:3]) + lines[3][:40])  # pairs 4.. not journaled, last line torn
    (out / "train" / "low" / ".leftover.part.png").write_bytes(b"junk")
    summary = run(folder_or_glob(str(photos)), out, DEFAULTS, workers=0)
    assert summary.written == N_GOOD - 2 and summary.resumed == 2 + 1 and summary.failed == 2
    assert sorted(manifest.read_text().splitlines()) == sorted(line.rstrip("\n") for line in lines)
    expected = {k: v for k, v in tree_bytes(baseline).items() if k.endswith(".png")}
    assert {k: v for k, v in tree_bytes(out).items() if k.endswith(".png") and "part" not in k} == expected


def test_shards_partition_the_source_and_merge_matches_an_unsharded_run(photos, baseline, tmp_path):
    rels = [s.rel for s in folder_or_glob(str(photos))]
    parts = [{r for r in rels if shard_of(r, 3) == k} for k in (1, 2, 3)]
    assert sum(map(len, parts)) == len(rels) and set().union(*parts) == set(rels)
    for k in (1, 2, 3):
        run(folder_or_glob(str(photos)), tmp_path, DEFAULTS, workers=0, shard=(k, 3))
        done = {r["source"] for r in read_jsonl(tmp_path / f"manifest.shard-{k}-of-3.jsonl")}
        done |= {r["source"] for r in read_jsonl(tmp_path / f"skipped.shard-{k}-of-3.jsonl")}
        assert done == parts[k - 1]
    assert merge(tmp_path) == (N_GOOD, 3)
    assert sorted((tmp_path / "manifest.jsonl").read_text().splitlines()) == sorted(
        (baseline / "manifest.jsonl").read_text().splitlines()
    )


def test_other_settings_in_the_same_folder_are_refused(photos, baseline, tmp_path):
    from lowlight_cli.errors import LowlightError
    from lowlight_cli.synth.pipeline import settings_differ

    with pytest.raises(LowlightError, match="seed"):
        run(folder_or_glob(str(photos)), baseline, dataclasses.replace(DEFAULTS, seed=1), workers=0, limit=1)
    # what the look benchmark checks before scoring a synthetic set (one made by older code is named, unused)
    assert settings_differ(baseline, DEFAULTS) == []
    assert settings_differ(
        baseline, dataclasses.replace(DEFAULTS, seed=1, noise_debias=not DEFAULTS.noise_debias)
    ) == ["noise_debias", "seed"]
    assert settings_differ(tmp_path, DEFAULTS) is None
    old = json.loads((baseline / "settings.json").read_text())
    del old["ratio_darkening_share"]  # a setting added since that folder was made
    (tmp_path / "settings.json").write_text(json.dumps(old))
    assert settings_differ(tmp_path, DEFAULTS) == ["ratio_darkening_share"]


def test_sources_coco_and_voc_layouts(tmp_path):
    from lowlight_cli.synth.sources import coco, voc

    for rel in (
        "coco/val2017/b.jpg",
        "coco/train2017/a.jpg",
        "coco/annotations/x.json",
        "v/VOCdevkit/VOC2012/JPEGImages/c.jpg",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    assert [s.rel for s in coco(tmp_path / "coco")] == ["train2017/a.jpg", "val2017/b.jpg"]
    assert [s.rel for s in voc(tmp_path / "v")] == ["VOC2012/JPEGImages/c.jpg"]


# ---- loader


def test_synth_loader_returns_aligned_crops(baseline):
    import torch

    from lowlight_cli.training.data import OnTheFlyPairs, SynthPairs

    torch.manual_seed(0)
    data = SynthPairs(baseline, crop=64)
    assert len(data) == N_GOOD
    for i in range(len(data)):
        item = data[i]
        shapes = {k: tuple(v.shape) for k, v in item.items()}
        assert shapes == {
            "low": (3, 64, 64),
            "low_clean": (3, 64, 64),
            "high": (3, 64, 64),
            "attention": (1, 64, 64),
            "noise": (3, 64, 64),
            "amplified": (3, 64, 64),
            "noise_known": (1,),
        }
        assert all(v.dtype == torch.float32 for v in item.values()) and float(item["noise_known"]) == 1.0
        # the same crop and flip everywhere: the targets still agree pixel by pixel
        torch.testing.assert_close(item["noise"], item["low"] - item["low_clean"], atol=3e-5, rtol=0)
        hi, lo = item["high"].amax(0), item["low_clean"].amax(0)
        torch.testing.assert_close(
            item["attention"][0], ((hi - lo).abs() / (hi + 1e-4)).clamp(0, 1), atol=0.02, rtol=0
        )
    fly = OnTheFlyPairs(PHOTOS, crop=48)
    item = fly[0]
    assert len(fly) == 3 and item["attention"].shape == (1, 48, 48) and item["amplified"].shape == (3, 48, 48)
    assert item["low"].mean() < item["high"].mean()


def test_on_the_fly_pairs_quantize_low_images_to_8_bits():
    """`synth_quantize`: the low images come in 8-bit codes, as a photo file's do, and the noise target
    is still low - low_clean; without it they are not."""
    import torch

    from lowlight_cli.training.data import OnTheFlyPairs

    codes = lambda t: t * 255  # noqa: E731
    for quantize in (True, False):
        torch.manual_seed(0)
        item = OnTheFlyPairs(PHOTOS, crop=48, quantize=quantize, amplify=False)[0]
        on_codes = all(
            torch.allclose(codes(item[k]), codes(item[k]).round(), atol=1e-3) for k in ("low", "low_clean")
        )
        assert on_codes == quantize
    torch.testing.assert_close(item["noise"], item["low"] - item["low_clean"], atol=3e-5, rtol=0)


# ---- download


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves one payload with Range support; the first full request is cut off halfway."""

    payload = b""
    ranges: list[str] = []
    cut_first = True

    def do_GET(self):  # noqa: N802
        start = 0
        header = self.headers.get("Range")
        type(self).ranges.append(header or "")
        if header:
            start = int(header.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(self.payload) - 1}/{len(self.payload)}")
        else:
            self.send_response(200)
        body = self.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if type(self).cut_first and not header:
            type(self).cut_first = False
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("val2017/000000000001.jpg", np.random.default_rng(0).bytes(200_000))
    _RangeHandler.payload, _RangeHandler.ranges, _RangeHandler.cut_first = buf.getvalue(), [], True
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/val2017.zip", hashlib.md5(buf.getvalue()).hexdigest()
    httpd.shutdown()


def test_download_resumes_with_range_and_verifies(server, tmp_path):
    from lowlight_cli.errors import LowlightError
    from lowlight_cli.synth.download import Archive, fetch, unpack

    url, md5 = server
    dest = tmp_path / "zips" / "val2017.zip"
    with pytest.raises(LowlightError, match="interrupted"):
        fetch(Archive(url, md5), dest)
    part = dest.with_name("val2017.zip.part")
    half = part.stat().st_size
    assert 0 < half < len(_RangeHandler.payload) and not dest.exists()
    seen = []
    fetch(Archive(url, md5), dest, lambda done, total: seen.append((done, total)))
    assert _RangeHandler.ranges == ["", f"bytes={half}-"]
    assert dest.read_bytes() == _RangeHandler.payload and not part.exists()
    assert seen[-1] == (len(_RangeHandler.payload), len(_RangeHandler.payload))
    unpack(dest, tmp_path)
    assert (tmp_path / "val2017" / "000000000001.jpg").stat().st_size == 200_000


def test_download_checksum_mismatch_is_rejected(server, tmp_path):
    from lowlight_cli.synth.download import Archive, fetch

    url, _ = server
    _RangeHandler.cut_first = False
    dest = tmp_path / "val2017.zip"
    with pytest.raises(FileError, match="checksum mismatch"):
        fetch(Archive(url, "0" * 32), dest)
    assert not dest.exists() and not dest.with_name("val2017.zip.part").exists()


# ---- command line


def test_cli_synth_report_preview_and_merge(photos, tmp_path):
    import typer
    from typer.testing import CliRunner

    from lowlight_cli.cli import synth

    app = typer.Typer()
    app.command("synth")(synth.synth)
    app.command("synth-merge")(synth.synth_merge)
    out = tmp_path / "out"
    args = [
        "synth",
        "--src",
        str(photos / "set0"),
        "--out",
        str(out),
        "--workers",
        "0",
        "--gamma",
        "2,3",
        "--identity-share",
        "0",
        "--mild-share",
        "0",
        "--shard",
        "1/1",
        "--report",
        "--preview",
        str(tmp_path / "grid.png"),
        "--limit",
        "2",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 pairs written" in result.output and (tmp_path / "grid.png").exists()
    assert all(
        (out / name).exists()
        for name in ("report.md", "report.json", "report-filters.png", "report-params.png")
    )
    assert all(2 <= r["params"]["gamma"] <= 3 for r in read_jsonl(out / "manifest.shard-1-of-1.jsonl"))
    result = CliRunner().invoke(app, ["synth-merge", str(out)])
    assert result.exit_code == 0 and len(load_pairs(out)) == 2
    bad = CliRunner().invoke(app, ["synth", "--src", str(photos), "--shard", "3/2", "--out", str(out)])
    assert bad.exit_code != 0
    assert json.loads((out / "settings.json").read_text())["gamma"] == [2.0, 3.0]


def torch_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)


def resumed_rejected(out: Path) -> int:
    return sum(r["status"] == "rejected" for r in read_jsonl(out / "skipped.jsonl"))


def test_tar_shards_hold_the_loose_pairs_and_an_interrupted_run_resumes_to_the_same_shards(
    photos, baseline, tmp_path
):
    """`tar=N`: WebDataset shards of N pairs whose members are the loose files byte for byte; a run killed
    with a shard open loses only that shard, and the resumed run ends with the uninterrupted run's bytes."""
    import tarfile

    from lowlight_cli.synth.store import iter_pairs, read_pair

    settings = dataclasses.replace(DEFAULTS, test_fraction=0.0)
    loose, whole, cut = tmp_path / "loose", tmp_path / "whole", tmp_path / "cut"
    run(folder_or_glob(str(photos)), loose, settings, workers=0)
    run(folder_or_glob(str(photos)), whole, settings, workers=2, tar=2)
    assert sorted(p.name for p in (whole / "train").iterdir()) == ["000001.tar", "000002.tar", "000003.tar"]
    by_id = {r.name: r for r in iter_pairs(loose)}
    records = list(iter_pairs(whole))
    assert len(records) == N_GOOD and sorted(r.name for r in records) == sorted(by_id)
    for record in records:
        assert record.shard and record.params == by_id[record.name].params
        with tarfile.open(whole / record.shard) as tar:
            for kind, member in record.files.items():
                assert tar.extractfile(member).read() == (loose / by_id[record.name].files[kind]).read_bytes()
        want, got = read_pair(loose, by_id[record.name]), read_pair(whole, record)
        assert all(np.array_equal(want[k], got[k]) for k in want)
    from lowlight_cli.training.data import SynthPairs  # the training loader reads the shards in place

    from_loose, from_tar = (SynthPairs(d, crop=None, flip=False) for d in (loose, whole))
    assert [r.name for r in from_tar.records] == [r.name for r in from_loose.records]
    assert all(torch_equal(from_loose[i], from_tar[i]) for i in range(N_GOOD))

    pairs = 0

    def killed_at_the_third_pair(record: dict, resumed: bool) -> None:
        nonlocal pairs
        pairs += record["status"] == "pair"
        if pairs == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(folder_or_glob(str(photos)), cut, settings, workers=0, tar=2, on_record=killed_at_the_third_pair)
    assert [p.name for p in (cut / "train").iterdir()] == ["000001.tar"]  # the open shard left nothing behind
    assert len(load_pairs(cut)) == 2
    resumed = run(folder_or_glob(str(photos)), cut, settings, workers=0, tar=2)
    assert resumed.written == N_GOOD - 2 and resumed.resumed == 2 + resumed_rejected(cut)
    a, b = tree_bytes(cut), tree_bytes(whole)
    assert sorted(a.pop("skipped.jsonl").splitlines()) == sorted(
        b.pop("skipped.jsonl").splitlines()
    )  # resumed first
    assert a == b  # the shards and the manifest
