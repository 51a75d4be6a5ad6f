"""The pair store and the one image decoder: training and eval list pairs through `synth.store.iter_pairs`,
read them with `read_pair` (loose files or tar shards) and read photos with `io.images.read_rgb`, so the
same file gives the same numbers to both; 8-bit photos keep the numbers of every earlier training run."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from lowlight_cli.io.images import read_rgb
from lowlight_cli.synth.store import PairRecord, iter_pairs, pair_layout, read_pair

sys.path.insert(0, str(Path(__file__).parent))
from _synthdata import make_lol_dir, make_synth_dir  # noqa: E402

PHOTOS = Path(__file__).parent / "data" / "synth"


def pillow_rgb(path: Path) -> np.ndarray:
    """How synth and training read photos before they went through io.images: Pillow, EXIF orientation,
    8-bit RGB, / 255. The reference for 8-bit inputs, whose numbers must not change."""
    with Image.open(path) as im:
        im.load()
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB")).astype(np.float32) / 255


def eight_bit_photos(folder: Path) -> list[Path]:
    """JPEG and PNG in the modes photos come in: RGB, rotated by EXIF, grey, palette with transparency,
    RGBA and CMYK."""
    folder.mkdir(parents=True)
    with Image.open(PHOTOS / "000000000785.jpg") as im:
        rgb = im.convert("RGB").resize((67, 45))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    files = {
        "rgb.jpg": lambda p: rgb.save(p, quality=90),
        "rotated.jpg": lambda p: rgb.save(p, quality=90, exif=exif),
        "rgb.png": lambda p: rgb.save(p),
        "grey.png": lambda p: rgb.convert("L").save(p),
        "palette.png": lambda p: rgb.quantize(16).save(p, transparency=3),
        "rgba.png": lambda p: rgb.convert("RGBA").save(p),
        "cmyk.jpg": lambda p: rgb.convert("CMYK").save(p, quality=90),
    }
    for name, save in files.items():
        save(folder / name)
    return [folder / name for name in files] + sorted(PHOTOS.glob("*.jpg"))


def test_eight_bit_photos_read_as_before_by_io_synth_training_and_eval(tmp_path):
    import torch

    from lowlight_cli.evaluation.evaluate import find_samples
    from lowlight_cli.training.data import OnTheFlyPairs, RealPairs

    photos = eight_bit_photos(tmp_path / "photos")
    want = {p.name: pillow_rgb(p) for p in photos}
    assert want["rotated.jpg"].shape == (67, 45, 3)  # the orientation was applied
    for path in photos:
        np.testing.assert_array_equal(read_rgb(path), want[path.name], err_msg=path.name)

    lol = tmp_path / "lol"
    for part in ("low", "high"):
        (lol / part).mkdir(parents=True)
        for path in photos:
            (lol / part / path.name).write_bytes(path.read_bytes())
    real = RealPairs(lol, "all", crop=None, flip=False, amplify=False)
    chw = lambda a: torch.from_numpy(a.transpose(2, 0, 1).copy())  # noqa: E731
    assert real.names == sorted(want)
    for i, name in enumerate(real.names):
        assert torch.equal(real[i]["low"], chw(want[name])) and torch.equal(real[i]["high"], chw(want[name]))
    on_the_fly = OnTheFlyPairs(tmp_path / "photos", crop=None, flip=False, amplify=False)
    for i, path in enumerate(on_the_fly.paths):
        assert torch.equal(on_the_fly[i]["high"], chw(want[path.name])), path.name
    for sample in find_samples(lol):
        low, high = sample.read()
        assert np.array_equal(low, want[sample.name]) and np.array_equal(high, want[sample.name])


def test_a_16_bit_pair_is_read_alike_by_training_and_eval_and_keeps_its_16_bits(tmp_path):
    import cv2

    from lowlight_cli.evaluation.evaluate import find_samples
    from lowlight_cli.training.data import RealPairs

    lol = make_lol_dir(tmp_path / "lol", n=1)  # 0.png: an 8-bit pair
    rng = np.random.default_rng(0)
    deep = {part: rng.integers(0, 65536, (40, 56, 3), dtype=np.uint16) for part in ("low", "high")}
    for part, samples in deep.items():
        cv2.imwrite(str(lol / part / "deep.png"), samples[..., ::-1])  # OpenCV writes BGR
    real = RealPairs(lol, "all", crop=None, flip=False, amplify=False)
    evaluated = {s.name: s.read() for s in find_samples(lol)}
    assert real.names == sorted(evaluated) == ["0.png", "deep.png"]
    for i, name in enumerate(real.names):
        item = real[i]
        for part, image in zip(("low", "high"), evaluated[name], strict=True):
            assert np.array_equal(item[part].numpy().transpose(1, 2, 0), image), (name, part)
            assert np.array_equal(image, read_rgb(lol / part / name))
    low, high = evaluated["deep.png"]
    np.testing.assert_array_equal(low, deep["low"].astype(np.float32) / 65535)
    np.testing.assert_array_equal(high, deep["high"].astype(np.float32) / 65535)
    assert np.abs(low - pillow_rgb(lol / "low" / "deep.png")).max() > 1 / 512  # an 8-bit read loses them


@pytest.fixture(scope="module")
def loose_and_tar(tmp_path_factory) -> tuple[Path, Path]:
    """The same pairs as loose files (through `lowlight synth`) and in tar shards of 2 pairs."""
    from lowlight_cli.synth.pipeline import run
    from lowlight_cli.synth.settings import DEFAULTS
    from lowlight_cli.synth.sources import folder_or_glob

    root = tmp_path_factory.mktemp("pairs")
    loose = make_synth_dir(root, images=5)
    settings = dataclasses.replace(
        DEFAULTS, darkness_filter=False, blur_filter=False, colour_filter=False, test_fraction=0.3
    )
    tar = root / "tar"
    run(folder_or_glob(str(root / "photos")), tar, settings, workers=0, tar=2)
    return loose, tar


def test_pair_records_are_the_manifest_lines_and_read_the_same_from_shards(loose_and_tar):
    from lowlight_cli.synth.manifest import load_pairs

    loose, tar = loose_and_tar
    assert pair_layout(loose) == pair_layout(tar) == "synth" and pair_layout(loose / "train" / "low") is None
    assert pair_layout(loose / "train") == "real"  # a split's low/ and high/ also read as real pairs
    for folder in (loose, tar):
        lines = load_pairs(folder)
        records = list(iter_pairs(folder))
        assert len(records) == len(lines) == 5
        assert [r.to_json() for r in records] == lines
    by_name = {r.name: r for r in iter_pairs(loose)}
    shards = list(iter_pairs(tar, "train")) + list(iter_pairs(tar, "test"))
    assert sorted(r.name for r in shards) == sorted(by_name) and all(r.shard and r.spans for r in shards)
    for record in shards:
        assert (record.split, record.params, record.source) == (
            by_name[record.name].split,
            by_name[record.name].params,
            by_name[record.name].source,
        )
        want, got = read_pair(loose, by_name[record.name]), read_pair(tar, record)
        assert want.keys() == got.keys() and all(np.array_equal(want[k], got[k]) for k in want)
        assert read_pair(tar, record, ("low", "high")).keys() == {"low", "high"}
    real = PairRecord(
        name="0.png", split="train", files={"low": "low/0.png", "high": "high/0.png"}, real=True
    )
    with pytest.raises(ValueError, match="no amplified image"):
        read_pair(loose, real, ("low", "amplified"))


def test_eval_reads_tar_shards_as_it_reads_the_loose_pairs(loose_and_tar, tmp_path):
    from typer.testing import CliRunner

    from lowlight_cli.cli.app import app
    from lowlight_cli.evaluation.baselines import BASELINES
    from lowlight_cli.evaluation.evaluate import evaluate, find_samples

    loose, tar = loose_and_tar
    for split in ("train", "test"):
        from_loose, from_tar = find_samples(loose, split), find_samples(tar, split)
        assert sorted(s.name for s in from_tar) == sorted(s.name for s in from_loose)
        assert all(":" in s.where and s.where.endswith(".low.png") for s in from_tar)
        rows = {
            name: {
                r["image"]: [
                    "nan" if isinstance(v, float) and np.isnan(v) else v
                    for k, v in sorted(r.items())
                    if k != "seconds"
                ]
                for r in evaluate(samples, {"gamma": BASELINES["gamma"]})
            }
            for name, samples in (("loose", from_loose), ("tar", from_tar))
        }
        assert rows["loose"] == rows["tar"]  # NaN where a metric does not apply (NIQE of a tiny image)
        assert all(r["psnr"] > 0 for r in evaluate(from_tar, {"gamma": BASELINES["gamma"]}))
    result = CliRunner().invoke(
        app, ["eval", "--data", str(tar), "--baseline", "gamma", "-o", str(tmp_path / "r"), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "per_image.csv").is_file()


def test_evaluation_lists_and_reads_pairs_without_importing_torch(loose_and_tar, tmp_path):
    loose, tar = loose_and_tar
    lol = make_lol_dir(tmp_path / "lol", n=2)
    probe = (
        "import sys\n"
        "from lowlight_cli.evaluation.evaluate import find_samples\n"
        "for folder in sys.argv[1:]:\n"
        "    for sample in find_samples(folder, 'all'):\n"
        "        low, high = sample.read()\n"
        "        assert low.shape == high.shape\n"
        "heavy = ('torch', 'torchvision', 'torchmetrics')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(lol), str(loose), str(tar)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_a_folder_of_real_pairs_is_not_a_synth_folder(tmp_path):
    from lowlight_cli.errors import LowlightError
    from lowlight_cli.training.data import SynthPairs

    lol = make_lol_dir(tmp_path / "lol", n=2)
    assert pair_layout(lol) == "real" and all(r.real for r in iter_pairs(lol))
    with pytest.raises(LowlightError, match="real pairs"):
        SynthPairs(lol)
    with pytest.raises(ValueError, match="no manifest line"):
        next(iter_pairs(lol)).to_json()
