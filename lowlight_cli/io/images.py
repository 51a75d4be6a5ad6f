"""Read and write photos without losing what a photographer cares about.

Pixels travel as float32 RGB in [0, 1]; everything else (format, bit depth, greyscale, alpha, ICC profile,
EXIF, DPI, JPEG chroma subsampling) travels in `ImageMeta` and is put back on write. EXIF orientation is
applied on read and reset to 1 on write, so viewers show the output the same way round as the input.

Pillow decodes and encodes everything except 16-bit colour, which it cannot hold: that is read with OpenCV
and written with OpenCV (PNG, plus the metadata chunks) or tifffile (TIFF).

This module is the package's one image decoder: photos go through `read_image` (or `read_rgb`, its pixels
alone), whoever reads them (enhance, serve, synth, training, eval); lossless data whose integer samples are
the point (the pair store's PNGs, in files or in tar shards) goes through `read_samples`/`decode_samples`
and `encode_png`.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lowlight_cli.colour import LUMA
from lowlight_cli.errors import FileError, file_error
from lowlight_cli.io.atomic import atomic_path

FORMATS = {"jpeg": "JPEG", "png": "PNG", "tiff": "TIFF", "webp": "WEBP", "bmp": "BMP"}
"""`--format` names -> Pillow format names."""
SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp", "BMP": ".bmp"}
"""Extension used when `--format` changes the format."""
SIXTEEN_BIT_FORMATS = {"PNG", "TIFF"}
DEFAULT_QUALITY = {"JPEG": 95, "WEBP": 95}
MAX_PIXELS = 400_000_000
"""Decompression-bomb guard: larger files are refused from their header, before any decoding, with a clear
error instead of an out-of-memory crash (peak memory of an image at the limit: docs/usage.md). Pillow's own
guard only errors above twice its limit and merely warns in between, so `read_image` checks the size itself
(until 2026-12 a 500 MP PNG was decoded, reaching 9.2 GB)."""
ORIENTATION_TAG = 0x0112
TIFF_LAYOUT_TAGS = {
    254,
    255,
    256,
    257,
    258,
    259,
    262,
    266,
    273,
    277,
    278,
    279,
    280,
    281,
    284,
    290,
    291,
    317,
    320,
    322,
    323,
    324,
    325,
    332,
    338,
    339,
    340,
    341,
    347,
    530,
    531,
    532,
}
"""TIFF tags that describe how the pixels are stored (size, bits, compression, photometric, strips, tiles,
palette, sample format...). Pillow's getexif() of a TIFF returns them with the rest; written back into an
output of another layout they made it unreadable (a palette TIFF came out as 'RGB with a palette')."""
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}


@dataclass(frozen=True)
class ImageMeta:
    format: str
    """Pillow format name of the source (JPEG, PNG, TIFF, WEBP, BMP)."""
    bit_depth: int
    """Bits per sample in the file (8 or 16), from the file header, not the pixel values."""
    gray: bool
    alpha: np.ndarray | None = None
    """HxW alpha in the file's own integer type, orientation applied; copied through unchanged."""
    icc: bytes | None = None
    exif: bytes | None = None
    """EXIF block with the orientation already reset to 1."""
    dpi: tuple[float, float] | None = None
    subsampling: int | None = None
    """JPEG chroma subsampling of the source (0 = 4:4:4), kept when re-encoding as JPEG."""


def read_image(path: str | Path) -> tuple[np.ndarray, ImageMeta]:
    """Decode `path` to float32 HxWx3 RGB in [0, 1] (orientation applied) and its metadata.

    Raises FileError naming the file for anything unreadable: missing, empty, truncated, not an image.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileError(path, "no such file" if not path.exists() else "not a file")
    if path.stat().st_size == 0:
        raise FileError(path, "empty file (0 bytes)")
    Image.MAX_IMAGE_PIXELS = (
        MAX_PIXELS  # Pillow refuses over twice this at open; the check below does the rest
    )
    _quiet_bomb_warning(Image)
    try:
        with Image.open(path) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise FileError(
                    path,
                    f"larger than {MAX_PIXELS / 1e6:g} megapixels ({width}x{height} = "
                    f"{width * height / 1e6:g} MP), refused from its header",
                )
            fmt = im.format or "PNG"
            if fmt not in SUFFIXES:
                raise FileError(path, f"{fmt} images are not supported (JPEG, PNG, TIFF, WebP, BMP are)")
            frames = getattr(im, "n_frames", 1)
            if frames > 1:
                kind = "multi-page TIFF" if fmt == "TIFF" else f"animated {fmt}"
                raise FileError(
                    path,
                    f"{kind} ({frames} pages): only single images are enhanced, and writing the first "
                    "page alone would lose the others; split the pages first (e.g. tiffsplit, magick)",
                )
            orientation = int(im.getexif().get(ORIENTATION_TAG, 1) or 1)  # before _meta resets it
            meta = _meta(im, path)
            im.load()
            pixels = _read_16bit_color(path) if meta.bit_depth == 16 and not meta.gray else _pixels(im, path)
    except FileError:
        raise
    except UnidentifiedImageError:
        raise FileError(path, _unidentified_reason(path)) from None
    except Image.DecompressionBombError:
        raise FileError(path, f"larger than {MAX_PIXELS / 1e6:.0f} megapixels") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise FileError(path, f"cannot decode ({exc})") from None
    pixels = apply_orientation(pixels, orientation)
    return _split(pixels, meta)


def read_rgb(path: str | Path) -> np.ndarray:
    """The pixels of `read_image` without the metadata: float32 HxWx3 RGB in [0, 1], orientation applied, a
    16-bit file at its full precision. How synth, training and eval read photos, so they read a file alike.

    Raises FileError naming the file, as `read_image` does.
    """
    return read_image(path)[0]


def read_samples(path: str | Path) -> np.ndarray:
    """`decode_samples` of a file's bytes. Raises FileError naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise file_error(path, exc, "cannot read") from None
    return decode_samples(data, path)


def decode_samples(data: bytes, where: str | Path) -> np.ndarray:
    """An encoded image in memory (PNG, or another format OpenCV reads) as its samples are stored, with no
    conversion: HxW or HxWxC, uint8 or uint16, channels in RGB(A) order, no orientation applied.

    For lossless data whose integers matter as they are (16-bit colour, the pair store's attention and noise
    maps, a member of a tar shard); photos go through `read_image`. `where` names the data in the FileError
    raised when it cannot be decoded.
    """
    import cv2

    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if pixels is None:
        raise FileError(where, "cannot decode (not an image, or truncated)" if data else "empty (0 bytes)")
    if pixels.ndim == 3:
        pixels = pixels[..., ::-1] if pixels.shape[2] == 3 else pixels[..., [2, 1, 0, 3][: pixels.shape[2]]]
    return pixels


def encode_png(samples: np.ndarray) -> bytes:
    """The inverse of `decode_samples`: HxW or HxWxC (3 or 4) uint8 or uint16 samples in RGB(A) order -> PNG
    bytes (OpenCV's default compression; no metadata chunks)."""
    import cv2

    if samples.ndim == 3:
        samples = samples[..., [2, 1, 0, 3][: samples.shape[2]]]
    ok, png = cv2.imencode(".png", np.ascontiguousarray(samples))
    if not ok:
        raise ValueError(f"cannot encode {samples.dtype} samples of shape {samples.shape} as PNG")
    return png.tobytes()


def _quiet_bomb_warning(Image) -> None:  # noqa: N803
    """Silence Pillow's DecompressionBombWarning (over MAX_IMAGE_PIXELS, under twice that): `read_image`
    refuses those images itself in one line, so the two-line warning would only be noise. Set on every call
    (an identical filter replaces itself), since `warnings.catch_warnings` blocks restore the filters."""
    import warnings

    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def write_image(
    path: str | Path, rgb: np.ndarray, meta: ImageMeta, fmt: str | None = None, quality: int | None = None
) -> Path:
    """Write float RGB in [0, 1] to `path` atomically, restoring what `meta` describes.

    `fmt` is a Pillow format name or a `--format` name (None keeps the source's). Bit depth drops to 8 only
    when the target format cannot hold 16 bits. Returns `path`.
    """
    path = Path(path)
    target = FORMATS.get(fmt, fmt) if fmt else meta.format
    depth = meta.bit_depth if target in SIXTEEN_BIT_FORMATS else 8
    pixels = _merge(rgb, meta, depth)
    with atomic_path(path) as tmp:
        if depth == 16 and pixels.ndim == 3:
            _write_16bit_color(tmp, pixels, meta, target)
        else:
            _write_pillow(tmp, pixels, meta, target, quality)
    return path


def apply_orientation(a: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip an HxW[xC] array as EXIF orientation 1-8 says (as PIL.ImageOps.exif_transpose does)."""
    ops = {
        2: lambda x: x[:, ::-1],
        3: lambda x: x[::-1, ::-1],
        4: lambda x: x[::-1],
        5: lambda x: x.swapaxes(0, 1),
        6: lambda x: np.rot90(x, -1),
        7: lambda x: np.rot90(x, 2).swapaxes(0, 1),
        8: lambda x: np.rot90(x, 1),
    }
    return np.ascontiguousarray(ops[orientation](a)) if orientation in ops else a


def _meta(im, path: Path) -> ImageMeta:
    exif = im.getexif()
    if im.format == "TIFF":  # a TIFF's "EXIF" is its own IFD: keep the descriptive tags, not the layout ones
        for tag in TIFF_LAYOUT_TAGS & set(exif):
            del exif[tag]
    exif_bytes = None
    if len(exif):
        if ORIENTATION_TAG in exif:
            exif[ORIENTATION_TAG] = 1
        exif_bytes = exif.tobytes()
    subsampling = None
    if im.format == "JPEG":
        from PIL import JpegImagePlugin

        subsampling = JpegImagePlugin.get_sampling(im)
        subsampling = subsampling if subsampling >= 0 else None
    dpi = im.info.get("dpi")
    return ImageMeta(
        format=im.format or "PNG",
        bit_depth=_bit_depth(im, path),
        gray=im.mode in _GRAY_MODES,
        icc=None if im.mode == "CMYK" else im.info.get("icc_profile") or None,
        exif=exif_bytes,
        dpi=(float(dpi[0]), float(dpi[1])) if dpi else None,
        subsampling=subsampling,
    )


def _bit_depth(im, path: Path) -> int:
    """Bits per sample as stored in the file; Pillow silently reduces 16-bit colour PNGs to 8-bit modes."""
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        return 16
    if im.format == "PNG":
        with open(path, "rb") as f:
            header = f.read(26)
        return 16 if len(header) >= 25 and header[24] == 16 else 8
    if im.format == "TIFF":
        bits = im.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return 16 if max(bits) == 16 else 8
    return 8


FLOAT_UNSUPPORTED = (
    "floating-point samples (HDR/linear data) are not supported: lowlight reads and writes 8- and "
    "16-bit integer images; convert it to a 16-bit TIFF first"
)


def _unidentified_reason(path: Path) -> str:
    """Why Pillow could not open `path`: a TIFF kind it lacks (float samples, several pages), or no image."""
    try:
        import tifffile

        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            if getattr(page, "sampleformat", 1) == 3:  # SAMPLEFORMAT.IEEEFP
                return f"{page.dtype} TIFF: {FLOAT_UNSUPPORTED}"
            layout = f"{page.dtype}, {page.samplesperpixel} samples, {page.compression.name}"
            return f"TIFF Pillow cannot decode ({layout})"
    except Exception:  # noqa: BLE001 - not a TIFF either: the plain answer
        return "not an image (or a format Pillow cannot identify)"


def _pixels(im, path: Path) -> np.ndarray:
    """Pillow image -> HxW (grey) or HxWxC array in its native integer type, RGB(A) order."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L"):
        return np.asarray(im).astype(np.uint16)
    if mode == "I":
        return np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
    if mode == "F":
        raise FileError(path, FLOAT_UNSUPPORTED)
    if mode == "1":
        im = im.convert("L")
    elif mode in ("P", "PA"):
        im = im.convert("RGBA" if "transparency" in im.info or mode == "PA" else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGB")
    return np.asarray(im)


def _read_16bit_color(path: Path) -> np.ndarray:
    pixels = read_samples(path)
    if pixels.dtype != np.uint16:
        raise FileError(path, "cannot decode 16-bit colour data")
    return np.ascontiguousarray(pixels)


def _split(pixels: np.ndarray, meta: ImageMeta) -> tuple[np.ndarray, ImageMeta]:
    """Native array -> float RGB in [0, 1] plus alpha kept aside in meta."""
    scale = 65535.0 if pixels.dtype == np.uint16 else 255.0
    alpha = None
    if pixels.ndim == 3 and pixels.shape[2] in (2, 4):
        alpha = pixels[..., -1].copy()
        pixels = pixels[..., :-1]
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    rgb = pixels.astype(np.float32) / scale
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    return rgb, replace(meta, alpha=alpha)


def _merge(rgb: np.ndarray, meta: ImageMeta, depth: int) -> np.ndarray:
    """Float RGB -> the file's layout: grey if the source was, alpha re-attached, 8 or 16 bits."""
    rgb = np.clip(np.nan_to_num(rgb, nan=0.0), 0.0, 1.0)
    if meta.gray:
        rgb = rgb @ LUMA  # Rec.601 luma, as Pillow's convert("L")
    dtype, scale = (np.uint16, 65535.0) if depth == 16 else (np.uint8, 255.0)
    out = np.rint(rgb * scale).astype(dtype)
    if meta.alpha is not None:
        alpha = meta.alpha
        if alpha.dtype != dtype:  # 16-bit alpha going to an 8-bit format, or the reverse
            alpha = np.rint(
                alpha.astype(np.float32) * (scale / (65535.0 if alpha.dtype == np.uint16 else 255.0))
            )
            alpha = alpha.astype(dtype)
        out = np.dstack([out if out.ndim == 3 else out[..., None], alpha])
    return out


def _write_pillow(tmp: Path, pixels: np.ndarray, meta: ImageMeta, fmt: str, quality: int | None) -> None:
    from PIL import Image

    if (
        pixels.dtype == np.uint16
    ):  # 16-bit grey (with alpha there is no Pillow mode; keep the grey in 16 bits)
        im = Image.fromarray(pixels[..., 0] if pixels.ndim == 3 else pixels)
    else:
        im = Image.fromarray(pixels)
    if fmt == "JPEG" and im.mode in ("LA", "RGBA"):
        im = im.convert(im.mode[:-1])  # JPEG has no alpha channel
    kwargs: dict = {}
    if meta.icc and fmt != "BMP":
        kwargs["icc_profile"] = meta.icc
    if meta.exif and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        kwargs["exif"] = meta.exif
    if meta.dpi and fmt in ("JPEG", "PNG", "TIFF", "BMP"):
        kwargs["dpi"] = meta.dpi
    if fmt in DEFAULT_QUALITY:
        kwargs["quality"] = quality or DEFAULT_QUALITY[fmt]
    if fmt == "JPEG" and meta.subsampling is not None:
        kwargs["subsampling"] = meta.subsampling
    if fmt == "TIFF":
        kwargs["compression"] = "tiff_adobe_deflate"
    im.save(tmp, format=fmt, **kwargs)


def _write_16bit_color(tmp: Path, pixels: np.ndarray, meta: ImageMeta, fmt: str) -> None:
    if fmt == "TIFF":
        import tifffile

        kwargs: dict = {"resolution": meta.dpi, "resolutionunit": "INCH"} if meta.dpi else {}
        if pixels.shape[2] == 4:
            kwargs["extrasamples"] = ("unassalpha",)
        tifffile.imwrite(tmp, pixels, photometric="rgb", compression="zlib", iccprofile=meta.icc, **kwargs)
        return
    tmp.write_bytes(_png_with_chunks(encode_png(pixels), meta))


def _png_with_chunks(png: bytes, meta: ImageMeta) -> bytes:
    """Insert iCCP, eXIf and pHYs chunks after IHDR (OpenCV writes none of them)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    extra = b""
    if meta.icc:
        extra += chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(meta.icc))
    if meta.dpi:
        ppm = [round(d / 0.0254) for d in meta.dpi]
        extra += chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1))
    if meta.exif:
        body = meta.exif[6:] if meta.exif.startswith(b"Exif\x00\x00") else meta.exif
        extra += chunk(b"eXIf", body)
    ihdr_end = 8 + 8 + 13 + 4
    return png[:ihdr_end] + extra + png[ihdr_end:]


def output_suffix(source: Path, fmt: str | None) -> str:
    """Keep the source's own extension unless the format changes."""
    if not fmt:
        return source.suffix
    target = FORMATS.get(fmt, fmt)
    from PIL import Image

    Image.init()
    if Image.EXTENSION.get(source.suffix.lower()) == target:
        return source.suffix
    return SUFFIXES[target]


def peek_size(path: str | Path) -> tuple[int, int]:
    """(width, height) from the file header, without decoding the pixels (for size limits before a decode).

    Raises FileError naming the file when it is not an image this module reads.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            if (im.format or "") not in SUFFIXES:
                raise FileError(
                    path, f"{im.format} images are not supported (JPEG, PNG, TIFF, WebP, BMP are)"
                )
            return im.size
    except FileError:
        raise
    except UnidentifiedImageError:
        raise FileError(path, "not an image (or a format Pillow cannot identify)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise FileError(path, f"cannot decode ({exc})") from None
