"""`lowlight enhance`: photos in, enhanced photos out.

Examples:
    lowlight enhance photo.jpg                     # writes photo_enhanced.jpg beside it
    lowlight enhance shoot/ -r -o out/ --format png
    lowlight enhance "night/*.tif" --save-maps --device cuda --half
    lowlight enhance /shared/archive -r -o /shared/out --ray auto --ray-gpus 1   # on a Ray cluster
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from lowlight_cli.cli.console import console, escape, flags_in, progress_bar, user_errors
from lowlight_cli.cli.options import (
    BackendOpt,
    DenoiseOpt,
    Device,
    DeviceOpt,
    ExposureOpt,
    FastOpt,
    GateOpt,
    HalfOpt,
    KeepColourOpt,
    OutDirOpt,
    PrecisionOpt,
    QuietOpt,
    StrengthOpt,
    TileOpt,
    WeightsOpt,
)
from lowlight_cli.cli.ray_options import RayActorsOpt, RayCpusOpt, RayGpusOpt, RayOpt
from lowlight_cli.inference import DEFAULT_BACKEND
from lowlight_cli.weights.registry import DEFAULT_WEIGHTS


class ImageFormat(str, Enum):
    jpeg = "jpeg"
    png = "png"
    tiff = "tiff"
    webp = "webp"
    bmp = "bmp"


@user_errors
def enhance(
    inputs: Annotated[
        list[str], typer.Argument(help="Image files, folders or glob patterns.", show_default=False)
    ],
    output: OutDirOpt = None,
    suffix: Annotated[
        str | None,
        typer.Option(help="Appended to output names. Default: _enhanced beside the input, none with -o."),
    ] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Descend into sub-folders.")] = False,
    overwrite: Annotated[
        bool, typer.Option(help="Replace existing outputs (default: skip them, so re-runs resume).")
    ] = False,
    fmt: Annotated[
        ImageFormat | None, typer.Option("--format", help="Output format. Default: the input's.")
    ] = None,
    quality: Annotated[int | None, typer.Option(min=1, max=100, help="JPEG/WebP quality.")] = None,
    save_maps: Annotated[
        bool, typer.Option("--save-maps", help="Also write the attention map as a heat-map PNG.")
    ] = False,
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
    ray: RayOpt = None,
    ray_actors: RayActorsOpt = None,
    ray_cpus: RayCpusOpt = 1.0,
    ray_gpus: RayGpusOpt = 0.0,
) -> None:
    """Enhance low-light photos (JPEG, PNG, TIFF, WebP, BMP); size, bit depth, EXIF, ICC and alpha are
    kept."""
    from lowlight_cli.batch import enhance_photos
    from lowlight_cli.cluster.runtime import Resources
    from lowlight_cli.inference.controls import Controls

    run = enhance_photos(  # the inputs, -o and the options are checked before the model loads
        inputs,
        output,
        suffix=suffix,
        recursive=recursive,
        fmt=fmt.value if fmt else None,
        quality=quality,
        overwrite=overwrite,
        save_maps=save_maps,
        enhancer=dict(
            weights=weights,
            device=device.value,
            half=half,
            tile=tile,
            backend=backend,
            precision=precision,
            fast=fast,
            controls=Controls.parse(strength, exposure, keep_colour, denoise),
            gate=gate,
        ),
        ray=ray,
        resources=Resources(ray_actors, ray_cpus, ray_gpus) if ray is not None else None,
    )
    if not quiet:
        console.print(f"[dim]{escape(run.description)}; weights: {escape(weights)}[/]")

    done = skipped = 0
    failures: list[str] = []
    with progress_bar(quiet=quiet) as bar:
        files_task = bar.add_task("images", total=len(run.items))
        tiles_task = bar.add_task("tiles", total=None, visible=False)

        def tile_progress(path: Path):
            bar.update(tiles_task, description=f"  {path.name}", completed=0, total=None, visible=False)

            def report(n: int, total: int) -> None:
                bar.update(tiles_task, completed=n, total=total, visible=total > 1)

            return report

        for outcome in run.outcomes(tile_progress):
            bar.advance(files_task)
            if outcome.status == "failed":
                failures.append(flags_in(outcome.error) if outcome.error else str(outcome.source))
                console.print(f"[bold red]error:[/] {escape(failures[-1])}")
            elif outcome.status == "skipped":
                skipped += 1
                if not quiet:
                    console.print(
                        f"[dim]skip {escape(str(outcome.output))} (exists; replace it with --overwrite)[/]"
                    )
            else:
                done += 1
                if not quiet:
                    rate = outcome.megapixels / outcome.seconds if outcome.seconds else 0.0
                    console.print(
                        f"{escape(str(outcome.output))}  [dim]{outcome.seconds:.1f} s, {rate:.2f} MP/s[/]"
                    )
    console.print(f"{done} enhanced, {skipped} skipped, {len(failures)} failed")
    if failures:
        for line in failures:
            console.print(f"  [red]failed:[/] {escape(line)}")
        raise typer.Exit(1)
