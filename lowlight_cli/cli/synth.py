"""`lowlight synth` and `lowlight synth-merge`: build {low-light, normal} training pairs from photos.

Examples:
    lowlight synth --src coco --root ~/data/coco --workers 8 --report --preview grid.jpg
    lowlight synth --src coco --root ~/data/coco --download        # fetch val2017 + annotations first
    lowlight synth --src voc --root ~/data/VOCdevkit --shard 3/8 --out /shared/synth
    lowlight synth --src "photos/**/*.jpg" --no-blur --gamma 2,4 --jpeg-share 1 --jpeg-quality 85,95
    lowlight synth --src photos/ --identity-share 0 --mild-share 0 --cast-share 0  # the paper's darkening
    lowlight synth-merge /shared/synth                             # join the shards' manifests
    lowlight synth --src coco --root /shared/coco --out /shared/synth --ray auto --tar 1000  # Ray, tar

Every default lives in `lowlight_cli.synth.settings.SynthSettings`; an option left out keeps it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lowlight_cli.cli.console import console, escape, flag, progress_bar, user_errors
from lowlight_cli.cli.options import WORKERS_ZERO
from lowlight_cli.cli.ray_options import RayActorsOpt, RayCpusOpt, RayGpusOpt, RayOpt
from lowlight_cli.errors import LowlightError
from lowlight_cli.synth.settings import DEFAULTS

RangeOpt = str | None


def _range(name: str, value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        low, high = (float(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected LOW,HIGH, got {value!r}", param_hint=flag(name)) from None
    return low, high  # SynthSettings checks the order


def _shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        k, n = (int(v) for v in value.split("/"))
    except ValueError:
        raise typer.BadParameter(f"expected K/N, got {value!r}", param_hint="--shard") from None
    return k, n  # synthesize checks 1 <= K <= N


def _default(field: str) -> str:
    value = getattr(DEFAULTS, field)
    return ",".join(f"{v:g}" for v in value) if isinstance(value, tuple) else str(value)


def _rng_help(field: str, what: str) -> str:
    return f"{what}, sampled per image from LOW,HIGH. Default {_default(field)}."


@user_errors
def synth(
    src: Annotated[
        str, typer.Option("--src", help="coco, voc (both need --root), a folder, or a glob pattern.")
    ],
    root: Annotated[Path | None, typer.Option(help="Dataset root for --src coco / voc.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (re-runs resume in it).")] = Path(
        "lowlight-synth"
    ),
    download: Annotated[
        bool, typer.Option(help="Fetch COCO into --root (default ./coco) first: resumable, MD5-checked.")
    ] = False,
    coco_parts: Annotated[
        str, typer.Option(help="COCO archives for --download, comma-separated (train2017 is 18 GB).")
    ] = "val2017,annotations",
    darkness: Annotated[
        bool | None, typer.Option("--darkness/--no-darkness", help="SLIC darkness filter (default on).")
    ] = None,
    bright_level: Annotated[
        float | None,
        typer.Option(help=f"Mean luma of a bright superpixel. Default {_default('bright_level')}."),
    ] = None,
    bright_fraction: Annotated[
        float | None,
        typer.Option(
            help=f"Share of bright superpixels to keep an image. Default {_default('bright_fraction')}."
        ),
    ] = None,
    blur: Annotated[
        bool | None, typer.Option("--blur/--no-blur", help="Laplacian-variance blur filter (default on).")
    ] = None,
    blur_threshold: Annotated[
        float | None,
        typer.Option(help=f"Keep at this Laplacian variance or more. Default {_default('blur_threshold')}."),
    ] = None,
    colour: Annotated[
        bool | None, typer.Option("--colour/--no-colour", help="Colourfulness filter (default on).")
    ] = None,
    colour_threshold: Annotated[
        float | None,
        typer.Option(help=f"Hasler-Suesstrunk threshold. Default {_default('colour_threshold')}."),
    ] = None,
    identity_share: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of identity pairs (input = target = the photo). "
            f"Default {_default('identity_share')}.",
        ),
    ] = None,
    mild_share: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help=f"Share of mildly under-exposed pairs. Default {_default('mild_share')}."
        ),
    ] = None,
    mild_beta: Annotated[
        RangeOpt, typer.Option(help=_rng_help("mild_beta", "Mild pairs: linear gain"))
    ] = None,
    mild_gamma: Annotated[RangeOpt, typer.Option(help=_rng_help("mild_gamma", "Mild pairs: gamma"))] = None,
    cast_share: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help=f"Share of low images given an illuminant colour cast. Default {_default('cast_share')}.",
        ),
    ] = None,
    cast_strength: Annotated[
        RangeOpt, typer.Option(help=_rng_help("cast_strength", "Cast strength (0-1)"))
    ] = None,
    ratio_darkening_share: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of darkened pairs whose curve keeps each pixel's R:G:B ratios, as less light does "
            "(the paper's per-channel curve saturates colours). "
            f"Default {_default('ratio_darkening_share')}.",
        ),
    ] = None,
    alpha: Annotated[RangeOpt, typer.Option(help=_rng_help("alpha", "Linear gain inside the gamma"))] = None,
    beta: Annotated[RangeOpt, typer.Option(help=_rng_help("beta", "Linear gain outside the gamma"))] = None,
    gamma: Annotated[RangeOpt, typer.Option(help=_rng_help("gamma", "Darkening gamma"))] = None,
    sigma_s: Annotated[
        RangeOpt, typer.Option(help=_rng_help("sigma_s", "Signal-dependent noise level"))
    ] = None,
    sigma_c: Annotated[
        RangeOpt, typer.Option(help=_rng_help("sigma_c", "Signal-independent noise level"))
    ] = None,
    sigma_row: Annotated[
        RangeOpt, typer.Option(help=_rng_help("sigma_row", "Row (banding) noise level"))
    ] = None,
    crf_gamma: Annotated[RangeOpt, typer.Option(help=_rng_help("crf_gamma", "Camera response gamma"))] = None,
    jpeg_share: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help=f"Share of noisy inputs JPEG-compressed after the noise. Default {_default('jpeg_share')}.",
        ),
    ] = None,
    jpeg_quality: Annotated[
        RangeOpt, typer.Option(help=_rng_help("jpeg_quality", "JPEG quality of those"))
    ] = None,
    test_fraction: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help=f"Fixed test split by path hash. Default {_default('test_fraction')}."
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help=f"Seed of every per-image draw. Default {_default('seed')}.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=0, help="Consider only the first N sources (of this shard).")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=0, help=f"Worker processes; {WORKERS_ZERO}. Not used with --ray.")
    ] = 1,
    shard: Annotated[
        str | None,
        typer.Option(help="K/N: handle the K-th of N disjoint parts (1-based); merge with synth-merge."),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Print filter statistics and save OUT/report.{json,md}.")
    ] = False,
    preview: Annotated[
        Path | None, typer.Option(help="Write a picture grid of a few pairs to this file.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and the final summary.")] = False,
    tar: Annotated[
        int | None,
        typer.Option(
            "--tar",
            min=1,
            help="Write WebDataset tar shards of N pairs each (per split) instead of loose PNGs.",
        ),
    ] = None,
    ray: RayOpt = None,
    ray_actors: RayActorsOpt = None,
    ray_cpus: RayCpusOpt = 1.0,
    ray_gpus: RayGpusOpt = 0.0,
) -> None:
    """Synthesize {low-light, normal} pairs with attention, noise and contrast targets (AgLLNet's data)."""
    from lowlight_cli.batch import NoReadableImages, synthesize
    from lowlight_cli.cluster.runtime import Resources

    ranges = {
        k: _range(k, v)
        for k, v in dict(
            alpha=alpha,
            beta=beta,
            gamma=gamma,
            mild_beta=mild_beta,
            mild_gamma=mild_gamma,
            cast_strength=cast_strength,
            sigma_s=sigma_s,
            sigma_c=sigma_c,
            sigma_row=sigma_row,
            crf_gamma=crf_gamma,
            jpeg_quality=jpeg_quality,
        ).items()
    }
    settings = DEFAULTS.with_changes(  # an option left out (None) keeps its default
        darkness_filter=darkness,
        bright_level=bright_level,
        bright_fraction=bright_fraction,
        blur_filter=blur,
        blur_threshold=blur_threshold,
        colour_filter=colour,
        colour_threshold=colour_threshold,
        identity_share=identity_share,
        mild_share=mild_share,
        cast_share=cast_share,
        jpeg_share=jpeg_share,
        ratio_darkening_share=ratio_darkening_share,
        test_fraction=test_fraction,
        seed=seed,
        **ranges,
    )
    if download:
        if src != "coco":
            raise typer.BadParameter(
                "--download fetches COCO only; use it with --src coco", param_hint="--download"
            )
        root = root or Path("coco")
        _download(root, tuple(p.strip() for p in coco_parts.split(",") if p.strip()), quiet)
    job = synthesize(  # no images is an error here, before anything is written
        src,
        root,
        out,
        settings,
        workers=workers,
        limit=limit,
        shard=_shard(shard),
        tar=tar,
        ray=ray,
        resources=Resources(ray_actors, ray_cpus, ray_gpus) if ray is not None else None,
    )
    if job.description and not quiet:
        console.print(f"[dim]{escape(job.description)}[/]")
    try:
        summary = _run_with_progress(job, quiet)
    except NoReadableImages as exc:
        _print_summary(exc.summary, out)
        raise
    _print_summary(summary, out)
    if report:
        text, written = job.report()
        console.print(text, markup=False)
        console.print(f"report: {', '.join(escape(str(p)) for p in written)}")
    if preview:
        grid = job.preview(preview)
        console.print(f"preview: {escape(str(grid))}" if grid else "[yellow]no pairs, no preview[/]")
    if summary.failed:
        raise typer.Exit(1)


def _print_summary(summary, out: Path) -> None:
    console.print(
        f"{summary.written} pairs written, {summary.resumed} already done, {summary.rejected} rejected, "
        f"{summary.failed} unreadable or failed -> {escape(str(out))}"
    )
    for line in summary.failures:
        console.print(f"  [yellow]skipped:[/] {escape(line)}")


def _run_with_progress(job, quiet: bool):
    with progress_bar("{task.fields[pairs]} pairs", quiet=quiet, rate="img/s") as bar:
        task = bar.add_task("sources", total=job.total, pairs=0)
        pairs = 0

        def on_record(record: dict, resumed: bool) -> None:
            nonlocal pairs
            pairs += record["status"] == "pair"
            bar.update(task, advance=1, pairs=pairs)

        return job.run(on_record)


def _download(root: Path, parts: tuple[str, ...], quiet: bool) -> None:
    from lowlight_cli.synth.download import download_coco

    with progress_bar(quiet=quiet, transfer=True, transient=False) as bar:

        def progress(name: str):
            task = bar.add_task(name, total=None)
            return lambda done, total: bar.update(task, completed=done, total=total)

        download_coco(root, parts, progress)


@user_errors
def synth_merge(
    out: Annotated[Path, typer.Argument(help="The synth folder the shards wrote into.")] = Path(
        "lowlight-synth"
    ),
) -> None:
    """Join the manifests of `lowlight synth --shard K/N` runs into OUT/manifest.jsonl and
    OUT/skipped.jsonl."""
    from lowlight_cli.synth.manifest import merge

    if not out.is_dir():
        raise LowlightError(f"{out}: no such folder")
    pairs, skipped = merge(out)
    console.print(
        f"merged: {pairs} pairs, {skipped} skipped sources -> {escape(str(out / 'manifest.jsonl'))}"
    )
