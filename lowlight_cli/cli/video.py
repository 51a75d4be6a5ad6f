"""`lowlight video`: night footage in, enhanced footage out, with audio, timing, rotation and colour kept.

Examples:
    lowlight video night.mp4 night_enhanced.mp4
    lowlight video night.mp4 -o night_enhanced.mp4    # the same: --out/-o as on enhance and eval
    lowlight video clip.mov out.mov --codec libx265 --pix-fmt yuv420p10le --crf 22
    lowlight video long.mkv part.mkv --start 60 --end 75 --side-by-side
    lowlight video master.mov lossless.mkv --codec ffv1
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from lowlight_cli.cli.console import console, escape, progress_bar, user_errors
from lowlight_cli.cli.options import (
    OUT,
    BackendOpt,
    DenoiseOpt,
    Device,
    DeviceOpt,
    ExposureOpt,
    FastOpt,
    GateOpt,
    HalfOpt,
    KeepColourOpt,
    PrecisionOpt,
    QuietOpt,
    StrengthOpt,
    TileOpt,
    WeightsOpt,
)
from lowlight_cli.inference import DEFAULT_BACKEND
from lowlight_cli.video.enhance import KEYFRAME_INTERVAL
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS


class VideoCodec(str, Enum):
    libx264 = "libx264"
    libx265 = "libx265"
    libvpx_vp9 = "libvpx-vp9"
    ffv1 = "ffv1"


@user_errors
def video(
    source: Annotated[Path, typer.Argument(help="Input video (anything FFmpeg reads).", show_default=False)],
    output: Annotated[
        Path | None,
        typer.Argument(
            help=(
                "Output video; the extension picks the container (.mp4, .mkv, .mov, .webm). Or give it "
                "as --out."
            ),
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(*OUT, help="Output video (instead of the OUTPUT argument).", show_default=False),
    ] = None,
    codec: Annotated[
        VideoCodec | None,
        typer.Option(help="Video encoder. Default: the source's codec family, else libx264."),
    ] = None,
    crf: Annotated[
        int | None,
        typer.Option(help="Constant quality (lower = better). Default: 18 x264, 20 x265, 24 vp9."),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            help=(
                "Speed/size trade-off: x264/x265 ultrafast..veryslow (default medium, veryfast with "
                "--fast), vp9 realtime|good|best (default good, realtime with --fast)."
            )
        ),
    ] = None,
    pix_fmt: Annotated[
        str | None,
        typer.Option("--pix-fmt", help="e.g. yuv420p, yuv420p10le, yuv444p. Default: the source's."),
    ] = None,
    start: Annotated[float | None, typer.Option(min=0, help="Process from this time (seconds).")] = None,
    end: Annotated[float | None, typer.Option(min=0, help="Process up to this time (seconds).")] = None,
    side_by_side: Annotated[
        bool, typer.Option("--side-by-side", help="Write a split screen: source left, enhanced right.")
    ] = False,
    temporal_smooth: Annotated[
        bool,
        typer.Option(
            "--temporal-smooth/--no-temporal-smooth",
            help="Smooth the attention map over time (less flicker).",
        ),
    ] = True,
    keyframe_interval: Annotated[
        int,
        typer.Option(
            min=1,
            help=(
                "With --fast: run the network on every n-th frame and at scene cuts; the frames "
                "between reuse its result on their own detail (1 = every frame)."
            ),
        ),
    ] = KEYFRAME_INTERVAL,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output (never the input).")] = False,
    strength: StrengthOpt = 1.0,
    denoise: DenoiseOpt = 1.0,
    exposure: ExposureOpt = None,
    keep_colour: KeepColourOpt = False,
    gate: GateOpt = True,
    weights: WeightsOpt = DEFAULT_WEIGHTS,
    device: DeviceOpt = Device.auto,
    half: HalfOpt = False,
    precision: PrecisionOpt = None,
    fast: FastOpt = False,
    tile: TileOpt = None,
    backend: BackendOpt = DEFAULT_BACKEND,
    quiet: QuietOpt = False,
) -> None:
    """Enhance a low-light video; audio and subtitles are copied untouched,
    every frame keeps its timestamp."""
    from lowlight_cli.inference.controls import Controls
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.video.enhance import VideoOptions, enhance_video, plan

    if output is not None and out is not None and output != out:
        raise typer.BadParameter(f"two outputs, {output} and --out {out}: give one", param_hint="'OUTPUT'")
    output = output if output is not None else out
    if output is None:
        raise typer.BadParameter(
            "missing: give it after the input video, or as --out/-o", param_hint="'OUTPUT'"
        )
    options = VideoOptions(
        codec.value if codec else None,
        crf,
        preset,
        pix_fmt,
        start,
        end,
        side_by_side,
        temporal_smooth,
        fast,
        keyframe_interval,
    )
    job = plan(source, output, options, overwrite)
    info, settings = job.info, job.settings
    enhancer = Enhancer(
        weights,
        device=device.value,
        half=half,
        tile=tile,
        backend=backend,
        precision=precision,
        fast=fast,
        controls=Controls.parse(strength, exposure, keep_colour, denoise),
        gate=gate,
    )
    if not quiet:
        extra = f", copying {', '.join(info.other_streams)}" if info.other_streams else ""
        extra += f", rotated {info.rotation} deg" if info.rotation else ""
        keyed = (
            f", network on every {keyframe_interval} frames and at scene cuts"
            if fast and keyframe_interval > 1
            else ""
        )
        console.print(f"[dim]{escape(enhancer.description)}{keyed}; weights: {escape(weights)}[/]")
        console.print(
            f"[dim]{info.width}x{info.height} {info.codec} {info.pix_fmt} -> "
            f"{settings.codec} {settings.pix_fmt} "
            f"{' '.join(f'{k}={v}' for k, v in settings.options.items())}{escape(extra)}[/]"
        )
        if settings.note:
            console.print(f"[yellow]note:[/] {escape(settings.note)}")

    with progress_bar(quiet=quiet, rate="frames/s") as bar:
        task = bar.add_task("frames", total=info.expected_frames(start, end))

        def on_frames(done: int) -> None:
            bar.update(task, completed=done)

        report = enhance_video(enhancer, job, on_frames)
    console.print(
        f"{escape(str(output))}: {report.frames} frames in {report.seconds:.1f} s "
        f"({report.fps:.2f} frames/s); flicker {report.flicker_in:.4f} in, "
        f"{report.flicker_out:.4f} out; {report.scene_cuts} scene cuts"
    )
