"""Write the speed-mode tables of docs/performance.md from the committed result files (never by hand).

Reads docs/results/speed/{bench.json, fast-mode.json, fast-video.json,
batch-sizes.json, bf16-cpu.json} (each optional) and
replaces the text between the `speed-modes` markers in docs/performance.md.

    python -m benchmarks performance_tables [--check]

With --check it only says whether docs/performance.md is up to date (exit 1 if not).
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.doc_blocks import replace, stale
from benchmarks.paths import RESULTS as ALL_RESULTS
from benchmarks.paths import ROOT

RESULTS = ALL_RESULTS / "speed"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- speed-modes:begin (benchmarks/performance_tables.py) -->", "<!-- speed-modes:end -->"


def load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.is_file() else None


def bench_section(bench: dict) -> list[str]:
    from lowlight_cli.speed.cases import Case, Result
    from lowlight_cli.speed.ratios import ratios_markdown
    from lowlight_cli.speed.report import markdown

    results = [Result(**{**r, "case": Case(**r["case"])}) for r in bench["images"]]
    out = [
        f"Date: {bench['date']}  ",
        f"Hardware: {bench['hardware']}  ",
        f"Command: `{bench['command']}`",
        "",
    ]
    out += markdown(results, bench["videos"]).splitlines()
    if bench.get("ratios"):
        out += ["", f"Ratios at {bench['ratios']['megapixels']:g} MP, measured in the same run:", ""]
        out += ratios_markdown(bench["ratios"]).splitlines()
    return out


def fast_section(fast: dict) -> list[str]:
    m = fast["mean"]
    return [
        f"Fast mode on `{fast['dataset']}` ({fast['images']} images, weights `{fast['weights']}`, "
        f"benchmarks/fast_mode_quality.py): mean PSNR to the ground truth.",
        "",
        "| input | full model | fast (network at "
        + f"{fast['fast_side']} px) | fast at the 1080p factor (1/{1920 / fast['fast_side']:g}) "
        "| fast vs full |",
        "| --- | --- | --- | --- | --- |",
        f"| {m['psnr_low']:.2f} | {m['psnr_full']:.2f} | {m['psnr_fast']:.2f} "
        f"| {m['psnr_fast_1080p_factor']:.2f} | "
        f"{m['fast_vs_full']:.2f} |",
    ]


def fast_video_section(video: dict) -> list[str]:
    out = [
        f"Fast mode on `{video['video']}` ({video['size']}, weights `{video['weights']}`, "
        "benchmarks/fast_video.py): frames/s end to end (decode, enhance, encode), by network side and "
        "keyframe interval, and the mean PSNR of each frame against the same side with the network on "
        "every frame. The source's own frame-to-frame "
        f"PSNR is {video['source_frame_to_frame_psnr']:.1f} dB (how much it moves).",
        "",
        "| network side px | keyframe interval | encoder | frames | s | fps | PSNR vs every frame dB "
        "| flicker in / out |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in video["rows"]:
        p = "-" if r["psnr_vs_every_frame"] is None else f"{r['psnr_vs_every_frame']:.1f}"
        out.append(
            f"| {r['side']} | {r['keyframe_interval']} | {r['encoder']} | {r['frames']} "
            f"| {r['seconds']:.1f} | "
            f"{r['fps']:.2f} | {p} | {r['flicker_in']:.4f} / {r['flicker_out']:.4f} |"
        )
    return out


def batch_section(batch: dict) -> list[str]:
    out = [
        f"Same-size batching, the network alone ({batch['backend']}, weights `{batch['weights']}`, "
        "benchmarks/batch_sizes.py): seconds per image by batch size.",
        "",
        "| size | batch | s per image | vs batch 1 |",
        "| --- | --- | --- | --- |",
    ]
    out += [
        f"| {r['size']} | {r['batch']} | {r['seconds_per_image']:.3f} | {r['speedup_vs_batch_1']:.2f}x |"
        for r in batch["rows"]
    ]
    return out


def bf16_section(bf16: dict) -> list[str]:
    out = [
        f"bf16 through torch {bf16['torch']} on this CPU ({bf16['size']}, weights `{bf16['weights']}`, "
        f"benchmarks/bf16_cpu.py); CPU flags: {', '.join(bf16['cpu_flags']) or 'none of AVX-512/AMX/VNNI'}; "
        f"native bf16 ISA: {'yes' if bf16['onednn_bf16_isa'] else 'no'}.",
        "",
        "| torch | s | speed vs fp32 | PSNR vs fp32 dB |",
        "| --- | --- | --- | --- |",
    ]
    for kind, r in bf16["rows"].items():
        p = "-" if r["psnr_vs_fp32_db"] is None else f"{r['psnr_vs_fp32_db']:.2f}"
        out.append(f"| {kind} | {r['seconds']:.2f} | {r['speed_vs_fp32']:.2f}x | {p} |")
    return out


def block() -> str:
    """The generated part of docs/performance.md, markers included."""
    parts: list[str] = []
    for name, section in (
        ("bench.json", bench_section),
        ("fast-mode.json", fast_section),
        ("fast-video.json", fast_video_section),
        ("batch-sizes.json", batch_section),
        ("bf16-cpu.json", bf16_section),
    ):
        data = load(name)
        if data is not None:
            parts += section(data) + [""]
    return "\n".join([BEGIN, "", *parts, END])


def check() -> list[str]:
    return [] if replace(DOC, BEGIN, END, block(), check=True) else [stale(DOC, "performance_tables")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that docs/performance.md is current")
    args = parser.parse_args()
    if args.check:
        problems = check()
        if problems:
            sys.exit("\n".join(problems))
        return
    replace(DOC, BEGIN, END, block(), check=False)


if __name__ == "__main__":
    main()
