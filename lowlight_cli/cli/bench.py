"""`lowlight bench`: which backend, precision and tile size is fastest on this machine.

Examples:
    lowlight bench                                   # torch and onnx, fp32, auto tiles, 0.5/2/8 MP on CPU
    lowlight bench --backends onnx --tiles auto,1024,2048 --sizes 2,8
    lowlight bench --device cuda --precisions fp32,fp16 --sizes 2,8,24 --video clip.mp4
    lowlight bench --backends onnx --sizes 2 --ratios --authors-graph agllnet_official_256x256.onnx
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lowlight_cli.cli.console import console, escape, user_errors
from lowlight_cli.cli.options import Device, DeviceOpt, WeightsOpt
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS


@user_errors
def bench(
    backends: Annotated[
        str, typer.Option(help="Comma-separated: torch, onnx, onnx-tensorrt.")
    ] = "torch,onnx",
    precisions: Annotated[str, typer.Option(help="Comma-separated: fp32, fp16 (CUDA only).")] = "fp32",
    tiles: Annotated[str, typer.Option(help="Comma-separated tile core sizes in px, or auto.")] = "auto",
    sizes: Annotated[
        str | None,
        typer.Option(help="Megapixels, comma-separated. Default: 0.5,2,8 (CPU), 0.5,2,8,24 (CUDA)."),
    ] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs per case (median reported).")] = 1,
    video: Annotated[
        Path | None, typer.Option(help="Also measure video fps (decode + enhance + encode) on this clip.")
    ] = None,
    video_seconds: Annotated[float, typer.Option(help="Seconds of --video to process.")] = 1.0,
    fast_video_seconds: Annotated[
        float | None,
        typer.Option(
            help="Seconds of --video for the --fast case (default: --video-seconds); fast mode is 30x "
            "quicker, so it can time more frames."
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for bench.md and bench.json.")] = Path(
        "bench"
    ),
    ratios: Annotated[
        bool,
        typer.Option(
            "--ratios",
            help="Also measure fp16/fp32 (CUDA), fast/full, folder/model-only and ours/the authors' graph, "
            "at the largest --sizes.",
        ),
    ] = False,
    authors_graph: Annotated[
        Path | None, typer.Option(help="The authors' released ONNX graph, for --ratios (CPU).")
    ] = None,
    weights: WeightsOpt = DEFAULT_WEIGHTS,
    device: DeviceOpt = Device.auto,
) -> None:
    """Measure MP/s and peak memory per backend x precision x tile x size, and video fps; write Markdown and
    JSON."""
    from lowlight_cli.speed.plan import plan, run
    from lowlight_cli.speed.ratios import ratios_markdown
    from lowlight_cli.speed.report import markdown, write_reports

    checked = plan(  # every option checked before the first case runs
        backends,
        precisions,
        tiles,
        sizes,
        repeats,
        out,
        video,
        video_seconds,
        fast_video_seconds,
        ratios,
        authors_graph,
        weights,
        device.value,
    )
    for note in checked.notes:
        console.print(f"[yellow]{escape(note)}[/]")
    report = run(
        checked,
        on_case=lambda i, n, case: console.print(f"[dim]{i}/{n} {escape(str(case))}[/]"),
        on_result=lambda r: console.print(f"  {r.mp_per_s:.3f} MP/s, peak RSS {r.peak_rss_mib:.0f} MiB"),
        log=lambda text: console.print(f"[dim]{escape(text)}[/]"),
    )
    command = "lowlight bench " + " ".join(sys.argv[2:])
    md, js = write_reports(out, report.results, report.videos, command, report.ratio)
    tables = markdown(report.results, report.videos)
    typer.echo(tables + ("\n" + ratios_markdown(report.ratio) if report.ratio else ""))
    console.print(f"wrote {escape(str(md))} and {escape(str(js))}")
