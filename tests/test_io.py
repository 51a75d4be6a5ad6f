"""Image I/O keeps what a photographer cares about, and bad files fail with their name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE
from PIL import Image, ImageCms, ImageOps

from lowlight_cli.errors import FileError, LowlightError
from lowlight_cli.io.atomic import atomic_path
from lowlight_cli.io.images import apply_orientation, read_image, write_image
from lowlight_cli.io.paths import InputItem, collect_inputs, output_path

ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x0110] = "TestCam 9000"  # Model
    exif[0x0112] = orientation
    return exif.tobytes()


def _ramp(h: int = 40, w: int = 56, dtype=np.uint8) -> np.ndarray:
    top = 65535 if dtype == np.uint16 else 255
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * top // (w - 1), y * top // (h - 1), (x + y) * top // (h + w - 2)], -1).astype(dtype)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow(orientation, tmp_path):
    a = _ramp(4, 6)
    Image.fromarray(a).save(tmp_path / "o.jpg", exif=_exif(orientation), quality=100)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(tmp_path / "o.jpg")))
    assert np.array_equal(
        apply_orientation(np.asarray(Image.open(tmp_path / "o.jpg")), orientation), expected
    )
    rgb, meta = read_image(tmp_path / "o.jpg")
    assert rgb.shape[:2] == expected.shape[:2]
    # the written file has orientation reset to 1 so viewers do not rotate it twice
    write_image(tmp_path / "out.jpg", rgb, meta)
    assert Image.open(tmp_path / "out.jpg").getexif()[0x0112] == 1


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "WEBP"])
def test_icc_exif_dpi_carried_over(fmt, tmp_path):
    src = tmp_path / f"in.{fmt.lower()}"
    Image.fromarray(_ramp()).save(src, format=fmt, icc_profile=ICC, exif=_exif(), dpi=(300, 300))
    rgb, meta = read_image(src)
    out = write_image(tmp_path / f"out.{fmt.lower()}", rgb * 0.5, meta)
    with Image.open(out) as im:
        assert im.format == fmt
        assert im.info.get("icc_profile") == ICC
        assert im.getexif().get(0x0110) == "TestCam 9000"
        if fmt != "WEBP":
            assert round(im.info["dpi"][0]) == 300


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_colour_round_trip(suffix, tmp_path):
    import cv2
    import tifffile

    a = _ramp(dtype=np.uint16)
    src = tmp_path / f"in{suffix}"
    if suffix == ".png":
        cv2.imwrite(str(src), a[..., ::-1])
    else:
        tifffile.imwrite(src, a, photometric="rgb", iccprofile=ICC)
    rgb, meta = read_image(src)
    assert meta.bit_depth == 16 and not meta.gray
    assert np.array_equal(np.rint(rgb * 65535).astype(np.uint16), a)  # no 8-bit truncation on the way in
    out = write_image(tmp_path / f"out{suffix}", rgb, meta)
    back = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert back.dtype == np.uint16 and np.array_equal(back, a)
    if suffix == ".tif":
        assert tifffile.TiffFile(out).pages[0].tags["InterColorProfile"].value == ICC


def test_16bit_png_keeps_icc_and_exif(tmp_path):
    import cv2

    src = tmp_path / "in.png"
    cv2.imwrite(str(src), _ramp(dtype=np.uint16))
    rgb, meta = read_image(src)
    meta = type(meta)(**{**meta.__dict__, "icc": ICC, "exif": _exif()})
    out = write_image(tmp_path / "out.png", rgb, meta)
    with Image.open(out) as im:
        assert im.info.get("icc_profile") == ICC
        assert im.getexif().get(0x0110) == "TestCam 9000"
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).dtype == np.uint16


def test_16bit_value_range_does_not_decide_depth(tmp_path):
    """A 16-bit file whose values all fit in 8 bits is still 16-bit (depth comes from the header)."""
    import cv2

    src = tmp_path / "dim.png"
    cv2.imwrite(str(src), (_ramp() // 4).astype(np.uint16))
    rgb, meta = read_image(src)
    assert meta.bit_depth == 16
    assert (
        cv2.imread(str(write_image(tmp_path / "o.png", rgb, meta)), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    )


@pytest.mark.parametrize("mode,dtype", [("L", np.uint8), ("I;16", np.uint16)])
def test_gray_in_gray_out(mode, dtype, tmp_path):
    a = _ramp(dtype=dtype)[..., 0]
    src = tmp_path / "g.png"
    Image.fromarray(a).save(src)
    rgb, meta = read_image(src)
    assert meta.gray and rgb.shape == (*a.shape, 3)
    with Image.open(write_image(tmp_path / "o.png", rgb, meta)) as im:
        assert im.mode == mode
        assert np.array_equal(np.asarray(im).astype(dtype), a)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_copied_unchanged(mode, tmp_path):
    rgb8 = _ramp()
    alpha = (np.arange(rgb8.shape[0] * rgb8.shape[1]) % 251).reshape(rgb8.shape[:2]).astype(np.uint8)
    base = rgb8 if mode == "RGBA" else rgb8[..., :1]
    src = tmp_path / "a.png"
    Image.fromarray(np.dstack([base, alpha])).save(src)
    rgb, meta = read_image(src)
    assert rgb.shape[2] == 3
    with Image.open(write_image(tmp_path / "o.png", np.clip(rgb * 1.7, 0, 1), meta)) as im:
        assert im.mode == mode
        assert np.array_equal(np.asarray(im)[..., -1], alpha)


def test_format_change_and_quality(tmp_path):
    rgb, meta = read_image(SAMPLE)
    small = write_image(tmp_path / "q20.webp", rgb, meta, fmt="webp", quality=20)
    large = write_image(tmp_path / "q95.webp", rgb, meta, fmt="webp", quality=95)
    assert Image.open(small).format == "WEBP" and small.stat().st_size < large.stat().st_size
    rgb16 = write_image(tmp_path / "x.bmp", rgb, meta, fmt="bmp")
    assert Image.open(rgb16).size == (rgb.shape[1], rgb.shape[0])


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("empty.jpg", b"", "empty file"),
        ("text.png", b"this is not an image at all\n" * 10, "not an image"),
        ("truncated.jpg", None, "cannot decode"),
    ],
)
def test_bad_files_name_themselves(name, content, reason, tmp_path):
    bad = tmp_path / name
    bad.write_bytes(SAMPLE.read_bytes()[:5000] if content is None else content)
    with pytest.raises(FileError) as info:
        read_image(bad)
    assert str(bad) in str(info.value) and reason in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileError, match="no such file"):
        read_image(tmp_path / "nope.jpg")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    final = tmp_path / "out.png"
    with pytest.raises(RuntimeError):
        with atomic_path(final) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_collect_inputs_folders_globs_and_missing(tmp_path):
    (tmp_path / "a" / "sub").mkdir(parents=True)
    for p in ["a/x.jpg", "a/sub/y.PNG", "a/x_enhanced.jpg", "a/notes.txt"]:
        (tmp_path / p).write_bytes(b"x")
    flat = collect_inputs([str(tmp_path / "a")])
    assert [i.rel.as_posix() for i in flat] == ["x.jpg"]
    deep = collect_inputs([str(tmp_path / "a")], recursive=True)
    assert sorted(i.rel.as_posix() for i in deep) == ["sub/y.PNG", "x.jpg"]
    globbed = collect_inputs([str(tmp_path / "a" / "**" / "*.PNG")], recursive=True)
    assert [i.rel.as_posix() for i in globbed] == ["sub/y.PNG"]
    with_missing = collect_inputs([str(tmp_path / "a" / "x.jpg"), str(tmp_path / "gone.jpg")])
    assert [i.path.name for i in with_missing] == ["x.jpg", "gone.jpg"]
    with pytest.raises(LowlightError, match="no images found"):
        collect_inputs([str(tmp_path / "a" / "*.gif")])


def test_output_path_never_overwrites_input(tmp_path):
    item = InputItem(tmp_path / "p.JPG", Path("sub/p.JPG"))
    assert output_path(item, None, "_enhanced") == tmp_path / "p_enhanced.JPG"
    assert output_path(item, tmp_path / "out", "", "png") == tmp_path / "out" / "sub" / "p.png"
    assert output_path(item, tmp_path / "out", "", "jpeg") == tmp_path / "out" / "sub" / "p.JPG"
    with pytest.raises(FileError, match="overwrite the input"):
        output_path(InputItem(item.path, Path("p.JPG")), tmp_path, "")
