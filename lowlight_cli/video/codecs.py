"""Output codecs: the one table of encoder defaults, and the rules that pick a pixel format.

Defaults aim at "looks like the source": the source's codec family when we can encode it,
a visually transparent CRF, and the source's chroma layout and bit depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lowlight_cli.errors import LowlightError


@dataclass(frozen=True)
class CodecSpec:
    encoder: str
    decoders: tuple[str, ...]
    """Source codec names for which this encoder is the default."""
    default_crf: int | None
    """None: lossless codec, --crf does not apply."""
    crf_max: int = 51
    presets: tuple[str, ...] = ()
    default_preset: str | None = None
    fast_preset: str | None = None
    """The preset of `--fast` runs without --preset: at 1080p on two cores x265 medium alone takes 0.3-0.4 s
    a frame, x264/x265 veryfast 0.05-0.17 s (docs/performance.md#video)."""
    preset_option: str = "preset"
    extra_options: dict[str, str] = field(default_factory=dict)
    odd_size_subsampling: bool = True
    """Whether 4:2:0/4:2:2 can encode odd widths/heights (H.264/HEVC chroma needs even sizes)."""


X26X_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)

CODECS: dict[str, CodecSpec] = {
    spec.encoder: spec
    for spec in (
        # CRF 18 (x264) / 20 (x265) are the usual "visually lossless" points; enhanced night footage
        # carries amplified grain, so a higher CRF would visibly smear it.
        CodecSpec(
            "libx264",
            ("h264",),
            18,
            presets=X26X_PRESETS,
            default_preset="medium",
            fast_preset="veryfast",
            odd_size_subsampling=False,
        ),
        CodecSpec(
            "libx265",
            ("hevc",),
            20,
            presets=X26X_PRESETS,
            default_preset="medium",
            fast_preset="veryfast",
            extra_options={"x265-params": "log-level=error"},
            odd_size_subsampling=False,
        ),
        # libvpx's constant-quality mode needs b=0; --preset maps to its `deadline`.
        CodecSpec(
            "libvpx-vp9",
            ("vp9",),
            24,
            crf_max=63,
            presets=("realtime", "good", "best"),
            default_preset="good",
            fast_preset="realtime",
            preset_option="deadline",
            extra_options={"b": "0", "row-mt": "1"},
        ),
        CodecSpec("ffv1", ("ffv1",), None, extra_options={"level": "3", "slices": "4"}),
    )
}
FALLBACK_CODEC = "libx264"
"""Output codec when the source codec is not one we encode (e.g. ProRes, MPEG-4 Part 2)."""


@dataclass(frozen=True)
class EncodeSettings:
    """Resolved encoder settings: what `VideoWriter` opens the stream with."""

    codec: str
    pix_fmt: str
    options: dict[str, str]
    note: str | None = None
    """Why a default was changed (e.g. 4:4:4 for an odd frame size), shown to the user."""

    @property
    def speed_label(self) -> str:
        """The encoder and its speed preset, e.g. `libx264 veryfast` or `libvpx-vp9 realtime`
        (speed tables)."""
        presets = {spec.preset_option for spec in CODECS.values()}
        return " ".join([self.codec, *(v for k, v in self.options.items() if k in presets)])


def default_codec(source_codec: str) -> str:
    return next((s.encoder for s in CODECS.values() if source_codec in s.decoders), FALLBACK_CODEC)


def resolve(
    source_codec: str,
    source_pix_fmt: str,
    width: int,
    height: int,
    codec: str | None = None,
    crf: int | None = None,
    preset: str | None = None,
    pix_fmt: str | None = None,
    fast: bool = False,
) -> EncodeSettings:
    """Fill in defaults from the source and reject combinations the encoder cannot do, before any work;
    `fast`: without a `preset`, the codec's fast preset rather than its default."""
    import av

    spec = CODECS[codec or default_codec(source_codec)]
    supported = [f.name for f in av.Codec(spec.encoder, "w").video_formats or ()]
    odd = width % 2 or height % 2
    note = None
    if pix_fmt is None:
        pix_fmt = _closest_format(source_pix_fmt, supported)
        if odd and not spec.odd_size_subsampling and _subsampled(pix_fmt):
            pix_fmt = _closest_format(_as_444(pix_fmt), supported)
            note = (
                f"{width}x{height} is odd-sized and {spec.encoder} needs even sizes for 4:2:0, so "
                f"{pix_fmt} keeps every pixel"
            )
        if bit_depth(pix_fmt) < bit_depth(source_pix_fmt):
            note = f"{spec.encoder} here has no {bit_depth(source_pix_fmt)}-bit format; writing {pix_fmt}"
    elif pix_fmt not in supported:
        raise LowlightError(
            f"pix_fmt {pix_fmt}: {spec.encoder} here supports {', '.join(supported)}", param="pix_fmt"
        )
    elif odd and not spec.odd_size_subsampling and _subsampled(pix_fmt):
        raise LowlightError(
            f"pix_fmt {pix_fmt}: {spec.encoder} cannot encode the odd size {width}x{height} with "
            f"chroma subsampling; use {_as_444(pix_fmt)} or the codec ffv1 or libvpx-vp9",
            param="pix_fmt",
        )

    options = dict(spec.extra_options)
    if spec.default_crf is None:
        if crf is not None:
            raise LowlightError(f"crf: {spec.encoder} is lossless, there is no quality to set", param="crf")
    else:
        crf_value = spec.default_crf if crf is None else crf
        if not 0 <= crf_value <= spec.crf_max:
            raise LowlightError(f"crf {crf_value}: {spec.encoder} takes 0..{spec.crf_max}", param="crf")
        options["crf"] = str(crf_value)
    if spec.presets:
        preset_value = preset or (spec.fast_preset if fast else None) or spec.default_preset
        if preset_value not in spec.presets:
            raise LowlightError(
                f"preset {preset_value}: {spec.encoder} takes {', '.join(spec.presets)}", param="preset"
            )
        options[spec.preset_option] = preset_value
    elif preset is not None:
        raise LowlightError(f"preset: {spec.encoder} has no presets", param="preset")
    return EncodeSettings(spec.encoder, pix_fmt, options, note)


def bit_depth(pix_fmt: str) -> int:
    """Bits per component of a pixel format name (8 unless it says otherwise)."""
    import av

    return max(c.bits for c in av.VideoFormat(pix_fmt).components)


def _subsampled(pix_fmt: str) -> bool:
    return pix_fmt.startswith(("yuv420", "yuv422", "yuv411", "yuv410", "yuv440", "yuvj420", "yuvj422", "nv"))


def _as_444(pix_fmt: str) -> str:
    return "yuv444p10le" if bit_depth(pix_fmt) > 8 else "yuv444p"


def _closest_format(source: str, supported: list[str]) -> str:
    """The source's format if the encoder takes it, else the supported one with the same depth and chroma,
    else 4:2:0."""
    if source in supported:
        return source
    full_range = source.replace("yuvj", "yuv")  # JPEG-range formats are tags now; the range is set separately
    if full_range in supported:
        return full_range
    depth = bit_depth(source)
    same_depth = [f for f in supported if f.startswith("yuv") and bit_depth(f) == depth]
    chroma = source.replace("yuvj", "yuv")[:6]
    for candidate in same_depth:
        if candidate.startswith(chroma):
            return candidate
    preferred = "yuv420p10le" if depth > 8 else "yuv420p"
    return preferred if preferred in supported else supported[0]
