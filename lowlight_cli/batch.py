"""Runs over many files, on this machine or on a Ray cluster: `enhance_photos` (what `lowlight enhance`
runs) and `synthesize` (`lowlight synth`).

Each checks what it can before any work (the inputs, where the outputs go, the options), picks the local run
or the Ray run (`ray`: the cluster's address, see `cluster.runtime.connect`; `resources`: its actor pool) and
returns a run whose description names where it works; the files written are the same either way. A bad
option is a LowlightError whose `param` names it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lowlight_cli.cluster.runtime import Resources
from lowlight_cli.errors import LowlightError
from lowlight_cli.inference.files import FileOutcome, check_write_options
from lowlight_cli.io.paths import InputItem

if TYPE_CHECKING:  # the synth modules load for synth runs only (enhancing photos needs none of them)
    from lowlight_cli.synth.pipeline import Summary
    from lowlight_cli.synth.settings import SynthSettings

TileProgress = Callable[[Path], Callable[[int, int], None]]
"""`tile_progress(path)` returns the tile callback `(done, total)` of one photo."""


@dataclass
class PhotoRun:
    """A checked batch of photos (`enhance_photos`); `outcomes()` does the work, one outcome per photo."""

    items: list[InputItem]
    out: Path | None
    suffix: str
    description: str
    """The backend, device and tiling (or the Ray cluster) the photos are enhanced on."""
    _outcomes: Callable[[TileProgress | None], Iterator[FileOutcome]] = field(repr=False)

    def outcomes(self, tile_progress: TileProgress | None = None) -> Iterator[FileOutcome]:
        """Enhance the photos, yielding one FileOutcome each (in input order here; on Ray the skipped ones
        first, then the others as they finish). `tile_progress`: per-photo tile progress (not on Ray)."""
        return self._outcomes(tile_progress)


def enhance_photos(
    inputs: Sequence[str | Path],
    out: str | Path | None = None,
    *,
    suffix: str | None = None,
    recursive: bool = False,
    fmt: str | None = None,
    quality: int | None = None,
    overwrite: bool = False,
    save_maps: bool = False,
    enhancer: Mapping[str, Any] | None = None,
    ray: str | None = None,
    resources: Resources | None = None,
) -> PhotoRun:
    """Enhance image files, folders (`recursive`: with their sub-folders) and glob patterns into `out`
    (sub-folders kept) or beside each input, with `suffix` (default: `_enhanced` beside the input, none in
    `out`), as `fmt` (default: each input's format) at JPEG/WebP `quality`.

    Before the model loads: the inputs are found, `out` must be writable and two inputs may not share an
    output (`io.paths`). `enhancer`: the keyword arguments of `Enhancer`, loaded here, or once per actor with
    `ray`.
    """
    from lowlight_cli.io.paths import (
        DEFAULT_SUFFIX,
        check_destinations,
        check_distinct_outputs,
        collect_inputs,
    )

    out = Path(out) if out is not None else None
    check_write_options(fmt, quality)
    items = collect_inputs([str(i) for i in inputs], recursive, exclude=out)
    check_destinations(items, out)  # a read-only or full `out` fails in one line before the model loads
    if suffix is None:
        suffix = "" if out else DEFAULT_SUFFIX
    check_distinct_outputs(items, out, suffix, fmt, save_maps)
    settings = dict(enhancer or {})
    if ray is not None:  # each actor loads the Enhancer: the cluster's devices, not this machine's
        from lowlight_cli.cluster.ray_runs import enhance_ray
        from lowlight_cli.cluster.runtime import connect, describe

        pool = resources or Resources()
        connect(ray)

        def on_ray(tile_progress: TileProgress | None) -> Iterator[FileOutcome]:
            return enhance_ray(items, out, suffix, settings, fmt, quality, overwrite, save_maps, ray, pool)

        return PhotoRun(items, out, suffix, describe(pool), on_ray)
    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.files import enhance_items

    model = Enhancer(**settings)

    def here(tile_progress: TileProgress | None) -> Iterator[FileOutcome]:
        return enhance_items(model, items, out, suffix, fmt, quality, overwrite, save_maps, tile_progress)

    return PhotoRun(items, out, suffix, model.description, here)


class NoReadableImages(LowlightError):
    """Every source of a synth run failed to decode (`summary` says which and why)."""

    def __init__(self, src: str, summary: Summary) -> None:
        super().__init__(f"no images found in {src}: none of its {summary.failed} image files could be read")
        self.summary = summary


@dataclass
class PairRun:
    """A checked synth run (`synthesize`); `run()` does the work."""

    src: str
    out: Path
    settings: SynthSettings
    shard: tuple[int, int] | None
    total: int
    """Sources this run considers (its shard, at most `limit`)."""
    description: str | None
    """The Ray cluster it runs on; None here."""
    _run: Callable[..., Summary] = field(repr=False)

    def run(self, on_record: Callable[[dict, bool], None] | None = None) -> Summary:
        """Synthesize the pairs; `on_record(record, resumed)` once per source. Raises NoReadableImages when
        not one source could be read."""
        summary = self._run(on_record=on_record)
        if summary.failed and not (summary.written or summary.resumed or summary.rejected):
            raise NoReadableImages(self.src, summary)
        return summary

    def report(self) -> tuple[str, list[Path]]:
        """The filter statistics of the pairs in `out` (of this shard) as Markdown, and the files they are
        written to: out/report.json, report.md, report-filters.png and (with pairs) report-params.png."""
        from lowlight_cli.synth.plots import filter_histograms, param_histograms
        from lowlight_cli.synth.report import build_report, to_markdown, write_report

        pairs, rejected = self._journals()
        data = build_report(pairs, rejected, self.settings)
        evaluated = pairs + [r for r in rejected if "metrics" in r]
        written = [
            *write_report(data, self.out),
            filter_histograms(evaluated, self.settings, self.out / "report-filters.png"),
        ]
        if pairs:
            written.append(param_histograms(pairs, self.settings, self.out / "report-params.png"))
        return to_markdown(data), written

    def preview(self, dest: str | Path) -> Path | None:
        """A picture grid of a few of the pairs in `out` (of this shard) at `dest`; None without pairs."""
        from lowlight_cli.synth.preview import write_preview

        pairs, _ = self._journals()
        return write_preview(self.out, pairs, Path(dest)) if pairs else None

    def _journals(self) -> tuple[list[dict], list[dict]]:
        from lowlight_cli.synth.manifest import journal_paths, read_jsonl

        manifest, skipped = journal_paths(self.out, self.shard)
        return list(read_jsonl(manifest)), list(read_jsonl(skipped))


def synthesize(
    src: str,
    root: str | Path | None = None,
    out: str | Path = "lowlight-synth",
    settings: SynthSettings | None = None,
    *,
    workers: int = 1,
    limit: int | None = None,
    shard: tuple[int, int] | None = None,
    tar: int | None = None,
    ray: str | None = None,
    resources: Resources | None = None,
) -> PairRun:
    """Build {low-light, normal} training pairs from `src` (`coco` or `voc` under `root`, a folder or a glob
    pattern) into `out`: this machine's `workers` processes (0: in this process), or the actors of a Ray
    cluster. `shard` (K, N): the K-th of N disjoint parts (1-based); `limit`: at most that many sources;
    `tar`: WebDataset tar shards of that many pairs instead of loose files. No image in `src` is an error
    before anything is written. `settings` None: `synth.settings.DEFAULTS`."""
    from lowlight_cli.synth.pipeline import run, select_sources
    from lowlight_cli.synth.settings import DEFAULTS
    from lowlight_cli.synth.sources import IMAGE_SUFFIXES, open_source

    settings = settings or DEFAULTS

    if shard is not None and not 1 <= shard[0] <= shard[1]:
        raise LowlightError(f"shard {shard[0]}/{shard[1]}: K must be between 1 and N", param="shard")
    if workers < 0:
        raise LowlightError(f"workers {workers}: must be 0 (in this process) or more", param="workers")
    if limit is not None and limit < 0:
        raise LowlightError(f"limit {limit}: must be 0 or more", param="limit")
    if tar is not None and tar < 1:
        raise LowlightError(f"tar {tar}: a shard holds at least 1 pair", param="tar")
    root = Path(root).expanduser() if root is not None else None
    out = Path(out).expanduser()
    total = sum(1 for _ in select_sources(open_source(src, root), shard, limit))
    if total == 0:
        where = f"{src} ({root})" if src in ("coco", "voc") else src
        raise LowlightError(f"no images found in {where} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    if ray is not None:
        from lowlight_cli.cluster.ray_runs import synth_ray
        from lowlight_cli.cluster.runtime import connect, describe

        pool = resources or Resources()
        connect(ray)

        def on_ray(on_record=None) -> Summary:
            return synth_ray(open_source(src, root), out, settings, ray, pool, limit, shard, on_record, tar)

        return PairRun(src, out, settings, shard, total, describe(pool), on_ray)

    def here(on_record=None) -> Summary:
        return run(open_source(src, root), out, settings, workers, limit, shard, on_record, tar)

    return PairRun(src, out, settings, shard, total, None, here)
