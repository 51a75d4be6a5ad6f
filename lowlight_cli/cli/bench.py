"""`lowlight bench`: which backend, precision and tile size is fastest on this machine.

Examples:
    lowlight bench                                          # torch and onnx, fp32, auto tiles, 0.5/2/8 MP on CPU
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
            help="Seconds of --video for the --fast case (default: --video-seconds); fast mode is 30x quicker, so it can time more frames."
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for bench.md and bench.json.")] = Path(
        "bench"
    ),
    ratios: Annotated[
        bool,
        typer.Option(
            "--ratios",
            help="Also measure fp16/fp32 (CUDA), fast/full, folder/model-only and ours/the authors' graph, at the largest --sizes.",
        ),
    ] = False,
    authors_graph: Annotated[
        Path | None, typer.Option(help="The authors' released ONNX graph, for --ratios (CPU).")
    ] = None,
    weights: WeightsOpt = DEFAULT_WEIGHTS,
    device: DeviceOpt = Device.auto,
) -> None:
    """Measure MP/s and peak memory per backend x precision x tile x size, and video fps; write Markdown + JSON."""
    from lowlight_cli.bench import (
        BACKENDS,
        DEFAULT_SIZES,
        PRECISIONS,
        Case,
        markdown,
        parse_list,
        parse_sizes,
        parse_tiles,
        run_isolated,
        usable_precisions,
        video_fps,
        write_reports,
    )
    from lowlight_cli.extras import installed, require

    names = parse_list("--backends", backends, BACKENDS)  # every option checked before the first case runs
    precision_list = parse_list("--precisions", precisions, PRECISIONS)
    tile_list = parse_tiles(tiles)
    size_list = parse_sizes(sizes) if sizes is not None else None
    from lowlight_cli.io.atomic import check_writable_dir

    check_writable_dir(out)
    if "torch" in names:
        require("lowlight bench --backends torch", "torch")
    if any(b.startswith("onnx") for b in names):
        require("lowlight bench --backends onnx", "onnxruntime")
    if video is not None:
        require("lowlight bench --video", "video")
        from lowlight_cli.video.probe import probe

        probe(video)  # a bad clip is one line now, not after every image case
    device_type = "cuda" if device.value == "cuda" else "cpu"
    if device.value == "auto" and installed("onnxruntime"):
        import onnxruntime

        device_type = "cuda" if "CUDAExecutionProvider" in onnxruntime.get_available_providers() else "cpu"
    elif device.value == "auto":
        import torch

        device_type = "cuda" if torch.cuda.is_available() else "cpu"
    size_list = size_list or list(DEFAULT_SIZES[device_type])
    usable = usable_precisions(precision_list, device_type)
    if usable != precision_list:
        console.print("[yellow]fp16 skipped: it needs a CUDA device, this run is on the CPU[/]")

    cases = [Case(b, p, t, s) for s in size_list for b in names for p in usable for t in tile_list]
    results = []
    for i, case in enumerate(cases, 1):
        console.print(f"[dim]{i}/{len(cases)} {case}[/]")
        results.append(run_isolated(case, weights, device.value, repeats))
        console.print(f"  {results[-1].mp_per_s:.3f} MP/s, peak RSS {results[-1].peak_rss_mib:.0f} MiB")
    videos = []
    if video:
        for b in names:
            for p in usable:
                videos.append(video_fps(video, b, p, weights, device.value, video_seconds, out))
        videos.append(
            video_fps(
                video,
                "onnx",
                "fp32",
                weights,
                device.value,
                fast_video_seconds or video_seconds,
                out,
                quality="fast",
            )
        )
    ratio = None
    if ratios:
        from lowlight_cli.bench import ratios as measure_ratios
        from lowlight_cli.bench import ratios_markdown

        ratio = measure_ratios(
            weights,
            device.value,
            max(size_list),
            repeats,
            out,
            authors_graph,
            log=lambda text: console.print(f"[dim]{escape(text)}[/]"),
        )
    md, js = write_reports(out, results, videos, "lowlight bench " + " ".join(sys.argv[2:]), ratio)
    typer.echo(markdown(results, videos) + ("\n" + ratios_markdown(ratio) if ratio else ""))
    console.print(f"wrote {escape(str(md))} and {escape(str(js))}")
