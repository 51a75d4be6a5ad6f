"""A bench run's reports: the hardware it ran on, and its results as Markdown tables (bench.md) and JSON."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict
from pathlib import Path

from lowlight_cli.speed.cases import Result
from lowlight_cli.speed.ratios import ratios_markdown


def hardware() -> str:
    """CPU model and core count, plus the GPU when torch sees one (torch is only asked if already
    imported)."""
    import os
    import sys

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    text = f"{cpu}, {os.cpu_count()} logical CPUs, {system}"
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        text += f", {torch.cuda.get_device_name()}"
    return text


def markdown(results: list[Result], videos: list[dict]) -> str:
    lines = [
        "| backend | precision | quality | tile | image | tiles | s | MP/s | peak RSS MiB | peak CUDA MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        c = r.case
        cuda = f"{r.peak_cuda_mib:.0f}" if r.peak_cuda_mib is not None else "-"
        lines.append(
            f"| {c.backend} | {c.precision} | {c.quality} | {c.tile or 'auto'} "
            f"| {r.width}x{r.height} ({c.megapixels:g} MP) | {r.tiles} "
            f"| {r.seconds:.2f} | {r.mp_per_s:.3f} | {r.peak_rss_mib:.0f} | {cuda} |"
        )
    if videos:
        lines += [
            "",
            "| video | backend | precision | quality | encoder | size | frames | s | fps |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {v['video']} | {v['backend']} | {v['precision']} | {v.get('quality', 'full')} "
            f"| {v.get('encoder', '-')} "
            f"| {v['size']} | {v['frames']} | {v['seconds']:.1f} | {v['fps']:.2f} |"
            for v in videos
        ]
    return "\n".join(lines) + "\n"


def write_reports(
    out_dir: Path, results: list[Result], videos: list[dict], command: str, ratio: dict | None = None
) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "hardware": hardware(), "command": command}
    md = out_dir / "bench.md"
    extra = "\n" + ratios_markdown(ratio) if ratio else ""
    md.write_text(
        f"Date: {meta['date']}  \nHardware: {meta['hardware']}  \nCommand: `{command}`\n\n"
        + markdown(results, videos)
        + extra
    )
    js = out_dir / "bench.json"
    js.write_text(
        json.dumps(
            {**meta, "images": [asdict(r) for r in results], "videos": videos, "ratios": ratio}, indent=2
        )
        + "\n"
    )
    return md, js
