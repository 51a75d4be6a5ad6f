"""`lowlight video`: timing, audio, rotation, colour and size survive; the output is brighter and steadier.

Clips are generated here with PyAV (tiny, so the CPU model run stays short) and compared with the
output by decoding both: frame pts, audio packet bytes, side data and colour tags.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av  # noqa: E402
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from lowlight_cli.cli.video import video

TB = Fraction(1, 12288)
RATE = 24
BT709 = 1


def make_clip(
    path: Path,
    *,
    size: tuple[int, int] = (64, 48),
    frames: int = 8,
    durations: list[int] | None = None,
    audio: bool = True,
    rotation: int | None = None,
    pix_fmt: str = "yuv420p",
    static: bool = False,
    subtitles: bool = False,
    seed: int = 0,
) -> Path:
    """A dark scene (a moving lit box, or a static one with sensor-like noise), BT.709 limited-range tags,
    optionally a 440 Hz AAC tone and (MKV) two SubRip cues. `durations` (in TB units per frame) makes it
    VFR."""
    w, h = size
    rng = np.random.default_rng(seed)
    out = av.open(str(path), "w")
    v = out.add_stream("libx264", rate=RATE, width=w, height=h, options={"crf": "0" if static else "18"})
    v.pix_fmt, v.time_base = pix_fmt, TB
    v.codec_context.time_base = TB
    v.color_range, v.color_primaries, v.color_trc, v.colorspace = 1, BT709, BT709, BT709
    if rotation is not None:
        v.set_display_rotation(rotation)
    tone = (
        out.add_stream("aac", rate=48000, layout="mono") if audio else None
    )  # declared before muxing starts
    subs = out.add_mux_stream("subrip") if subtitles else None
    step = TB.denominator // RATE
    durations = durations or [step] * frames
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    pts = 0
    for i, d in enumerate(durations):
        img = 0.03 + 0.08 * x * np.array([1.0, 0.8, 0.6], np.float32) + np.zeros((h, w, 3), np.float32)
        x0 = w // 3 if static else (i * 5) % w
        img[h // 3 : 2 * h // 3, x0 : x0 + w // 4] = (0.22, 0.14, 0.09)
        if static:
            img += rng.normal(0, 0.02, img.shape).astype(np.float32)
        frame = av.VideoFrame.from_ndarray((np.clip(img, 0, 1) * 255).astype(np.uint8), format="rgb24")
        frame = frame.reformat(format=pix_fmt, dst_colorspace=BT709, dst_color_range=1)
        frame.pts, frame.duration, frame.time_base = pts, d, TB
        out.mux(v.encode(frame))
        pts += d
    out.mux(v.encode())
    if tone:
        t = np.arange(int(48000 * pts * TB)) / 48000
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        out.mux(tone.encode(frame))
        out.mux(tone.encode())
    if subs:
        subs.time_base = Fraction(1, 1000)
        for i, text in enumerate((b"a car passes", b"the street is quiet")):
            cue = av.Packet(text)
            cue.stream, cue.pts, cue.dts, cue.duration, cue.time_base = (
                subs,
                i * 100,
                i * 100,
                100,
                subs.time_base,
            )
            out.mux(cue)
    out.close()
    return path


class Decoded:
    """What a player would see: every frame's time, mean luma and tags, and the audio packets."""

    def __init__(self, path: Path) -> None:
        with av.open(str(path)) as c:
            v = c.streams.video[0]
            self.times, self.luma = [], []
            for f in c.decode(v):
                self.times.append(f.pts * f.time_base)
                self.luma.append(float(f.to_ndarray(format="rgb24").astype(np.float32).mean()) / 255)
                self.size, self.pix_fmt, self.rotation = (f.width, f.height), f.format.name, f.rotation
                self.colors = (f.color_range, f.color_primaries, f.color_trc, f.colorspace)
            self.duration = c.duration / av.time_base
            c.seek(0)
            self.packet_durations = [p.duration for p in c.demux(v) if p.dts is not None]
            c.seek(0)
            self.audio = self._packets(c, c.streams.audio)
            c.seek(0)
            self.subtitles = self._packets(c, c.streams.subtitles)

    @staticmethod
    def _packets(container, streams) -> list:
        return (
            [(p.pts * p.time_base, bytes(p)) for p in container.demux(streams[0]) if p.dts is not None]
            if streams
            else []
        )


def run_cli(*args: str):
    app = typer.Typer()
    app.command()(video)
    return CliRunner().invoke(app, [*map(str, args), "--quiet"])


@pytest.fixture(scope="module")
def enhancer():
    from lowlight_cli.inference.enhancer import Enhancer

    return Enhancer(device="cpu")


def test_vfr_clip_keeps_every_timestamp_audio_and_colour_and_is_brighter(tmp_path):
    step = TB.denominator // RATE
    src = make_clip(
        tmp_path / "night.mp4", durations=[step, 2 * step, step, 3 * step, step, step, 2 * step, step]
    )
    out = tmp_path / "night_enhanced.mp4"
    result = run_cli(src, out)
    assert result.exit_code == 0, result.output
    a, b = Decoded(src), Decoded(out)
    assert len(b.times) == len(a.times) == 8
    assert b.times == a.times  # exact pts, VFR gaps included
    assert len(set(np.diff(a.times))) > 1
    assert b.duration == a.duration  # the last frame keeps its duration too (it used to come from the rate)
    assert b.packet_durations == a.packet_durations
    assert b.audio == a.audio and len(a.audio) > 10  # packet for packet: same bytes, same pts
    assert b.colors == a.colors == (1, BT709, BT709, BT709)
    assert b.size == a.size and b.pix_fmt == "yuv420p"
    assert np.mean(b.luma) > 2 * np.mean(a.luma)
    assert not list(tmp_path.glob(".*part*")) and not list(tmp_path.glob(".*check*"))


def test_rotated_odd_sized_mkv_keeps_rotation_every_pixel_and_subtitles(tmp_path):
    src = make_clip(
        tmp_path / "phone.mkv", size=(45, 33), frames=5, rotation=90, pix_fmt="yuv444p", subtitles=True
    )
    out = tmp_path / "phone_out.mkv"
    result = run_cli(src, out)
    assert result.exit_code == 0, result.output
    a, b = Decoded(src), Decoded(out)
    assert (b.rotation, b.size) == (a.rotation, a.size) == (90, (45, 33))
    assert b.times == a.times
    assert b.subtitles == a.subtitles and len(a.subtitles) == 2
    assert b.audio == a.audio and a.audio


def test_odd_size_picks_444_for_h264_and_keeps_420_where_the_codec_allows():
    from lowlight_cli.errors import LowlightError
    from lowlight_cli.video.codecs import resolve

    assert resolve("h264", "yuv420p", 45, 33).pix_fmt == "yuv444p"
    assert resolve("h264", "yuv420p10le", 45, 33, codec="libx265").pix_fmt == "yuv444p10le"
    assert resolve("h264", "yuv420p", 45, 33, codec="ffv1").pix_fmt == "yuv420p"
    assert resolve("h264", "yuv420p", 64, 48).pix_fmt == "yuv420p"
    assert resolve("hevc", "yuv420p10le", 64, 48).codec == "libx265"
    assert resolve("hevc", "yuv420p10le", 64, 48).pix_fmt == "yuv420p10le"
    with pytest.raises(LowlightError, match="odd size"):
        resolve("h264", "yuv420p", 45, 33, pix_fmt="yuv420p")
    with pytest.raises(LowlightError, match="lossless"):
        resolve("h264", "yuv420p", 64, 48, codec="ffv1", crf=10)


def test_ten_bit_output_and_section_with_side_by_side(tmp_path):
    src = make_clip(tmp_path / "clip.mp4", frames=10)
    out = tmp_path / "part.mkv"
    result = run_cli(
        src,
        out,
        "--start",
        2 / RATE,
        "--end",
        6 / RATE,
        "--side-by-side",
        "--codec",
        "libx265",
        "--pix-fmt",
        "yuv420p10le",
    )
    assert result.exit_code == 0, result.output
    a, b = Decoded(src), Decoded(out)
    assert len(b.times) == 4 and float(b.times[0]) == pytest.approx(0, abs=1e-3)
    assert b.pix_fmt == "yuv420p10le"
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(np.float32)
    assert frame[:, 40:].mean() > 2 * frame[:, :30].mean()  # enhanced right half, source left half
    assert 0 < len(b.audio) < len(a.audio)
    assert b.audio[0][1] in {data for _, data in a.audio}


def test_temporal_smoothing_reduces_flicker_on_a_static_noisy_clip(tmp_path, enhancer):
    from lowlight_cli.video.enhance import VideoOptions, enhance_video, plan

    src = make_clip(tmp_path / "static.mp4", frames=10, static=True, audio=False, seed=1)
    flicker = {}
    for smooth in (False, True):
        job = plan(src, tmp_path / f"out_{smooth}.mp4", VideoOptions(temporal_smooth=smooth))
        report = enhance_video(enhancer, job)
        flicker[smooth] = report.flicker_out
    added = {smooth: f - report.flicker_in for smooth, f in flicker.items()}  # beyond the source's own noise
    assert flicker[True] < flicker[False]
    assert added[False] > 0 and added[True] < 0.5 * added[False]


def test_temporal_smoother_averages_maps_and_gains_and_restarts_at_a_cut():
    from lowlight_cli.video.temporal import TemporalSmoother, flicker

    rng = np.random.default_rng(1)
    dark = np.full((36, 64, 3), 0.05, np.float32)
    bright = np.full((36, 64, 3), 0.8, np.float32)
    s = TemporalSmoother(seconds=0.3)
    maps = [s.update(dark, 0.6 + rng.normal(0, 0.05, (36, 64)).astype(np.float32), i / 30) for i in range(30)]
    assert np.std([m.mean() for m in maps[10:]]) < 0.01 and s.cuts == 0
    gains = 8 + rng.normal(0, 0.5, 30)  # each frame brightened by a jittering factor
    steady = [float(s.steady(dark, dark * np.float32(g)).mean()) / 0.05 for g in gains]
    assert np.std(steady[10:]) < 0.25 * np.std(gains[10:]) and abs(np.mean(steady[10:]) - 8) < 0.5
    after_cut = s.update(bright, np.full((36, 64), 0.1, np.float32), 1.0)
    assert s.cuts == 1 and np.allclose(after_cut, 0.1)
    assert np.allclose(s.steady(bright, bright * 0.5), 0.4)  # a new shot starts from its own gain
    assert flicker([1.0, 1.0, 1.0]) == 0.0 and flicker([1.0, 1.1, 1.0]) == pytest.approx(0.1 / (3.1 / 3))


def test_interrupted_run_leaves_nothing_under_the_final_name(tmp_path, enhancer):
    from lowlight_cli.video.enhance import VideoOptions, enhance_video, plan

    src = make_clip(tmp_path / "clip.mp4", frames=3)
    job = plan(src, tmp_path / "out.mp4", VideoOptions())

    def interrupt(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        enhance_video(enhancer, job, interrupt)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def _audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as out:
        a = out.add_stream("aac", rate=48000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 4800), np.float32), format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 48000, 0
        out.mux(a.encode(frame))
        out.mux(a.encode())
    return path


def _no_decoder(path: Path) -> Path:
    """A Matroska file whose video stream is AVS3, a codec PyAV's FFmpeg can mux but not decode."""
    with av.open(str(path), "w") as out:
        s = out.add_mux_stream("avs3", rate=25, width=64, height=48)
        s.time_base = Fraction(1, 25)
        for i in range(3):
            packet = av.Packet(bytes(64))
            packet.stream, packet.pts, packet.dts, packet.time_base = s, i, i, s.time_base
            out.mux(packet)
    return path


def test_file_cut_after_a_front_index_is_reported_as_truncated(tmp_path):
    from lowlight_cli.errors import FileError
    from lowlight_cli.video.probe import probe
    from lowlight_cli.video.reader import read

    src = make_clip(tmp_path / "clip.mp4", frames=24)
    fast = tmp_path / "fast.mp4"
    with av.open(str(src)) as i, av.open(str(fast), "w", options={"movflags": "+faststart"}) as o:
        streams = {s.index: o.add_stream_from_template(s) for s in i.streams}
        for packet in i.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                o.mux(packet)
    fast.write_bytes(fast.read_bytes()[: int(fast.stat().st_size * 0.6)])  # index intact, media data cut
    info = probe(fast)
    with pytest.raises(FileError, match=r"truncated: only \d+ of the 24 frames"):
        list(read(fast, info))


def _truncated(path: Path) -> Path:
    make_clip(path, frames=8)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the index (moov) is written last: half a file has none
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _audio_only(p / "song.m4a"), "no video stream"),
        (lambda p: _truncated(p / "cut.mp4"), "truncated"),
        (lambda p: _no_decoder(p / "avs3.mkv"), "unsupported video codec"),
        (lambda p: _empty(p / "empty.mp4"), "not a readable video"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, make, message):
    src = make(tmp_path)
    before = sorted(tmp_path.iterdir())
    result = run_cli(src, tmp_path / "out.mp4")
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert sorted(tmp_path.iterdir()) == before


def _photo(path: Path, exif: bool = True, fmt: str | None = None) -> Path:
    from PIL import Image

    im = Image.fromarray(np.random.default_rng(0).integers(0, 60, (48, 64, 3), dtype=np.uint8))
    extra = {}
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "Camera"  # FFmpeg 8 attaches EXIF as frame side data (type 31, unknown to PyAV)
        extra["exif"] = tags
    im.save(path, format=fmt, **extra)
    return path


@pytest.mark.parametrize(
    ("name", "fmt", "kind"),
    [
        ("photo.jpg", None, "JPEG"),
        ("photo.png", None, "PNG"),
        ("photo.webp", None, "WebP"),
        ("photo.mp4", "JPEG", "JPEG"),
    ],
)
def test_a_photo_is_not_a_video_in_one_line(tmp_path, name, fmt, kind):
    """`lowlight video photo.jpg out.mp4` ended in exit 3: `unexpected ValueError: 31 is not a valid Type`."""
    src = _photo(tmp_path / name, fmt=fmt)
    before = sorted(tmp_path.iterdir())
    result = run_cli(src, tmp_path / "out.mp4")
    assert result.exit_code == 1, result.output
    assert (
        result.output.strip()
        == f"error: {src}: not a video: a still {kind} image; photos go through `lowlight enhance`"
    )
    assert sorted(tmp_path.iterdir()) == before


def test_display_matrix_survives_side_data_pyav_cannot_name(tmp_path):
    """A frame whose side data includes a type newer than PyAV's enum: its rotation is still read."""
    from lowlight_cli.video.probe import _display_matrix, _rotation_matrix

    with av.open(str(_photo(tmp_path / "exif.jpg"))) as container:
        frame = next(container.decode(container.streams.video[0]))
        assert _display_matrix(frame) is None
    with av.open(str(make_clip(tmp_path / "rot.mp4", frames=2, rotation=90))) as container:
        frame = next(container.decode(container.streams.video[0]))
        assert (
            _rotation_matrix(frame.rotation)
            == _display_matrix(frame)
            == (0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30)
        )


def test_refuses_input_as_output_existing_output_and_unwritable_paths(tmp_path):
    src = make_clip(tmp_path / "clip.mp4", frames=2, audio=False)
    data = src.read_bytes()
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    cases = [
        ((src, src), "is the input"),
        ((src, blocker), "exists; replace it with --overwrite"),
        ((src, blocker / "out.mp4"), "is a file, not a folder"),
        ((src, tmp_path), "is a folder; give the output file's name"),
        ((src, tmp_path / "out.xyz"), "FFmpeg knows no container for '.xyz'"),
        (
            (src, tmp_path / "o.mp4", "--backend", "onnx-tensorrt", "--device", "cpu"),
            "--backend onnx-tensorrt runs on an NVIDIA GPU only; on the CPU use the onnx backend",
        ),
        ((src, tmp_path / "out.webm", "--codec", "libx264"), "pick another codec or output extension"),
        (
            (src, tmp_path / "out.mp4", "--pix-fmt", "yuv420p10le", "--codec", "libvpx-vp9"),
            "libvpx-vp9 here supports",
        ),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
        assert (
            len(result.output.strip().splitlines()) == 1 and ".check" not in result.output
        )  # no internal names
    assert src.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "file.txt"]  # no output, no leftovers


def test_progress_total_is_estimated_when_the_container_states_no_frame_count(tmp_path):
    from dataclasses import replace

    from lowlight_cli.video.probe import probe

    mp4 = probe(make_clip(tmp_path / "a.mp4", frames=12, audio=False))
    mkv = probe(make_clip(tmp_path / "a.mkv", frames=12, audio=False))
    assert mp4.frames == 12 and mp4.expected_frames() == 12
    assert mkv.frames is None and mkv.expected_frames() == 12  # from duration x rate
    assert mkv.expected_frames(start=0.25) == 6
    assert replace(mkv, duration=None).expected_frames() is None  # the bar then counts without a total


def test_fast_mode_runs_the_network_small_and_keeps_size_timing_and_brightening(tmp_path):
    src = make_clip(
        tmp_path / "night.mp4", size=(640, 360), frames=3, audio=False
    )  # the network sees 384x216
    out = tmp_path / "fast.mp4"
    result = run_cli(src, out, "--fast", "--backend", "onnx")
    assert result.exit_code == 0, result.output
    a, b = Decoded(src), Decoded(out)
    assert b.times == a.times and b.size == a.size
    assert np.mean(b.luma) > 2 * np.mean(a.luma)


def test_fast_mode_runs_the_network_on_keyframes_only_and_the_frames_between_stay_close(tmp_path):
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.video.enhance import VideoOptions, enhance_video, plan

    src = make_clip(tmp_path / "moving.mp4", size=(192, 128), frames=12, audio=False)
    fast = Enhancer("official", device="cpu", backend="onnx", fast=True, fast_side=96)
    local, frames_seen = fast.backend.local, []

    def counting(x, att):
        frames_seen.append(x.shape[0])
        return local(x, att)

    fast.backend.local = counting
    outputs = {}
    for interval in (1, 3):
        frames_seen.clear()
        job = plan(
            src,
            tmp_path / f"k{interval}.mkv",
            VideoOptions(codec="ffv1", fast=True, keyframe_interval=interval),
        )
        report = enhance_video(fast, job)
        assert report.frames == 12 and sum(frames_seen) == 12 // interval  # frames 0, 3, 6, 9 with interval 3
        outputs[interval] = Decoded(tmp_path / f"k{interval}.mkv")
    every, keyed = outputs[1], outputs[3]
    assert every.times == keyed.times
    assert min(keyed.luma) > 1.5 * max(Decoded(src).luma)  # every frame is enhanced, reused or not
    np.testing.assert_allclose(keyed.luma, every.luma, rtol=0.05)


def test_keyframes_are_due_at_the_interval_and_at_every_scene_cut():
    from lowlight_cli.video.enhance import _Keyframes

    k = _Keyframes(3)
    due = []
    for cut in [False] * 5 + [True] + [False] * 4:
        due.append(k.due(cut))
    assert due == [True, False, False, True, False, True, False, False, True, False]


def test_fast_runs_use_the_codecs_fast_preset_unless_one_is_given():
    from lowlight_cli.video.codecs import resolve

    assert resolve("hevc", "yuv420p", 64, 48).options["preset"] == "medium"
    assert resolve("hevc", "yuv420p", 64, 48, fast=True).options["preset"] == "veryfast"
    assert resolve("h264", "yuv420p", 64, 48, preset="slow", fast=True).options["preset"] == "slow"
    assert resolve("vp9", "yuv420p", 64, 48, fast=True).options["deadline"] == "realtime"
    assert "preset" not in resolve("ffv1", "yuv420p", 64, 48, fast=True).options
