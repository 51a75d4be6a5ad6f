"""The speed ratios of one bench run: fp16/fp32 (CUDA), fast/full, a folder through `lowlight enhance` against
the model alone, and (CPU) ours against the authors' released graph."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from lowlight_cli.speed.cases import Case, image_size, isolated, peak_rss_mib, run_isolated, test_image


def folder_vs_model(
    weights: str, device: str, backend: str, precision: str, megapixels: float, count: int, work: Path
) -> dict:
    """`lowlight enhance` on a folder of `count` JPEGs (decode, enhance, encode, pipelined) against the model
    alone on the same decoded images, in this process; both after one warm-up image."""
    import tempfile

    from lowlight_cli.inference.enhancer import Enhancer
    from lowlight_cli.inference.files import enhance_items
    from lowlight_cli.io.images import ImageMeta, read_image, write_image
    from lowlight_cli.io.paths import collect_inputs

    w, h = image_size(megapixels)
    work.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.TemporaryDirectory(
        prefix=".folder-bench-", dir=work
    )  # the JPEGs are not part of the report
    src, out = Path(scratch.name) / "in", Path(scratch.name) / "out"
    src.mkdir()
    meta = ImageMeta("JPEG", 8, False)
    for i in range(count):
        write_image(src / f"{i:03d}.jpg", np.roll(test_image(w, h), 37 * i, axis=1), meta, quality=90)
    enhancer = Enhancer(weights, device=device, precision=precision, backend=backend)
    enhancer.enhance(test_image(256, 256))
    images = [read_image(p)[0] for p in sorted(src.glob("*.jpg"))]
    start = time.perf_counter()
    for rgb in images:
        enhancer.enhance(rgb)
    model = time.perf_counter() - start
    start = time.perf_counter()
    outcomes = list(enhance_items(enhancer, collect_inputs([str(src)]), out, "", overwrite=True))
    folder = time.perf_counter() - start
    written = len(list(out.glob("*.jpg")))
    scratch.cleanup()
    if any(o.status != "done" for o in outcomes):
        raise RuntimeError(f"bench folder run failed: {[o.error for o in outcomes if o.error]}")
    return {
        "images": count,
        "written": written,
        "size": f"{w}x{h}",
        "model_s": model,
        "folder_s": folder,
        "ratio": model / folder,
    }


def authors_graph_case(graph: Path, megapixels: float, repeats: int) -> dict:
    """Seconds and peak RSS of the authors' released graph (`../shared/data/reference/agllnet_official`,
    fixed at 256x256) on onnxruntime's CPU provider, its height and width made free; the input is padded to
    multiples of 128 as its downsampling needs. Its Resize nodes carry fixed target sizes of the 256x256 grid
    (each one an x2 upsampling), so they are given scales of 2 instead. Call in a fresh process (peak RSS)."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    model = onnx.load(str(graph))
    scales = "lowlight_bench_scales_x2"
    model.graph.initializer.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), scales))
    for node in model.graph.node:
        if node.op_type == "Resize" and len(node.input) == 4:  # X, roi, scales (empty), sizes
            node.input[2] = scales
            del node.input[3]
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        dims[2].dim_param, dims[3].dim_param = "height", "width"
    for value in model.graph.output:
        dims = value.type.tensor_type.shape.dim
        dims[1].dim_param, dims[2].dim_param = "height", "width"
    del model.graph.value_info[:]
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the unused size constants are reported as warnings
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    session.run(None, {name: np.zeros((1, 3, 256, 256), np.float32)})
    w, h = image_size(megapixels)
    x = test_image(-(-w // 128) * 128, -(-h // 128) * 128).transpose(2, 0, 1)[None].copy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {name: x})
        times.append(time.perf_counter() - start)
    return {
        "graph": graph.name,
        "size": f"{x.shape[3]}x{x.shape[2]}",
        "seconds": float(np.median(times)),
        "peak_rss_mib": peak_rss_mib(),
    }


def ratios(
    weights: str,
    device: str,
    megapixels: float,
    repeats: int,
    work: Path,
    authors_graph: Path | None = None,
    folder_images: int = 4,
    log=print,
) -> dict:
    """The speed ratios of one run: fp16/fp32 (CUDA), fast/full and (CPU) ours/the authors' graph as
    throughput ratios of fresh-process cases at `megapixels`, and folder/model-only throughput of
    `lowlight enhance`."""
    cuda = device.startswith("cuda")
    base = Case("onnx", "fp32", None, megapixels)
    cases = {"fp32": base, "fast": dataclasses.replace(base, quality="fast")}
    if cuda:
        cases["fp16"] = dataclasses.replace(base, precision="fp16")
    results = {}
    for key, case in cases.items():
        log(f"ratios: {case}")
        results[key] = run_isolated(case, weights, device, repeats)
    full = results["fp32"]
    rows = [
        {
            "ratio": "fast/full (speed)",
            "value": full.seconds / results["fast"].seconds,
            "detail": f"{results['fast'].seconds:.2f} s vs {full.seconds:.2f} s",
        }
    ]
    if cuda:
        rows.insert(
            0,
            {
                "ratio": "fp16/fp32 (speed)",
                "value": full.seconds / results["fp16"].seconds,
                "detail": f"{results['fp16'].seconds:.2f} s vs {full.seconds:.2f} s",
            },
        )
    log("ratios: folder vs model only")
    folder = isolated(folder_vs_model, weights, device, "onnx", "fp32", megapixels, folder_images, work)
    rows.append(
        {
            "ratio": "folder/model-only (throughput)",
            "value": folder["ratio"],
            "detail": f"{folder['images']} JPEGs {folder['size']}: "
            f"{folder['folder_s']:.2f} s vs {folder['model_s']:.2f} s",
        }
    )
    authors = None
    if authors_graph is not None and not cuda:
        log(f"ratios: authors' graph {authors_graph}")
        authors = isolated(authors_graph_case, authors_graph, megapixels, repeats)
        rows.append(
            {
                "ratio": "ours/authors' graph (speed)",
                "value": authors["seconds"] / full.seconds,
                "detail": f"{full.seconds:.2f} s vs {authors['seconds']:.2f} s ({authors['size']}); peak RSS "
                f"{full.peak_rss_mib:.0f} vs {authors['peak_rss_mib']:.0f} MiB",
            }
        )
        rows.append(
            {
                "ratio": "authors' graph/ours (peak memory)",
                "value": authors["peak_rss_mib"] / full.peak_rss_mib,
                "detail": f"{authors['peak_rss_mib']:.0f} MiB vs {full.peak_rss_mib:.0f} MiB",
            }
        )
    return {
        "megapixels": megapixels,
        "rows": rows,
        "cases": {k: asdict(r) for k, r in results.items()},
        "folder": folder,
        "authors": authors,
    }


def ratios_markdown(ratio: dict) -> str:
    lines = ["| ratio (higher = ours/new is better) | value | measured |", "| --- | --- | --- |"]
    lines += [f"| {r['ratio']} | {r['value']:.2f}x | {r['detail']} |" for r in ratio["rows"]]
    return "\n".join(lines) + "\n"
