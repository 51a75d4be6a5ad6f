"""`lowlight serve` on this machine: time to the first result after start-up, and peak memory under N
concurrent requests (the server's RSS, sampled every 10 ms).

    python -m benchmarks serve_bench [--concurrency 1 2 8] [--photo tests/data/official/sample_5047.jpg]
    [--check]

Starts `python -m lowlight_cli serve` (official weights, onnx backend, CPU, default 2 workers) in a fresh
process, waits for /healthz, sends the photo once (time to first result), then N copies at once for each
N and records the server's peak RSS. Writes docs/results/serve_bench.json and the table in docs/serve.md
between its `serve-bench` markers. Run it on an otherwise idle machine. --check measures nothing: it fails
when that table is not what the committed docs/results/serve_bench.json gives.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.doc_blocks import replace, stale
from benchmarks.paths import RESULTS, ROOT

DOC = ROOT / "docs" / "serve.md"
START, END = "<!-- serve-bench:start -->", "<!-- serve-bench:end -->"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(port: int) -> list[str]:
    """`lowlight serve` as the serve benchmarks start it: official weights, onnxruntime on the CPU."""
    return [sys.executable, "-m", "lowlight_cli", "serve", "--port", str(port)] + (
        "--weights official --backend onnx --device cpu".split()
    )


class PeakRSS:
    """Samples a process's RSS in a thread; `reset()` starts a new peak."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.01)

    def reset(self) -> int:
        self.peak = self.proc.memory_info().rss
        return self.peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 8])
    parser.add_argument("--photo", type=Path, default=ROOT / "tests/data/official/sample_5047.jpg")
    parser.add_argument("--out", type=Path, default=RESULTS / "serve_bench.json")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument(
        "--check", action="store_true", help="only check the doc's table against the committed results"
    )
    args = parser.parse_args()
    if args.check:
        problems = check(args.doc, args.out)
        if problems:
            sys.exit("\n".join(problems))
        return
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    body = args.photo.read_bytes()
    cmd = serve_command(port)
    load_before = os.getloadavg()[0]
    began = time.perf_counter()
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            while True:
                if server.poll() is not None:
                    sys.exit(f"the server exited: {server.stderr.read()}")
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
            ready = time.perf_counter() - began
            health = client.get("/healthz").json()

            def send(_=None) -> float:
                tic = time.perf_counter()
                r = client.post("/api/v1/enhance", files={"file": (args.photo.name, body)})
                r.raise_for_status()
                return time.perf_counter() - tic

            rss = PeakRSS(server.pid)
            idle = rss.reset()
            single = send()
            first = time.perf_counter() - began
            rows = []
            for n in args.concurrency:
                before = rss.reset()
                tic = time.perf_counter()
                with ThreadPoolExecutor(n) as pool:
                    latencies = list(pool.map(send, range(n)))
                rows.append(
                    {
                        "concurrent": n,
                        "peak_rss_mb": round(rss.peak / 1e6, 1),
                        "rss_before_mb": round(before / 1e6, 1),
                        "wall_s": round(time.perf_counter() - tic, 2),
                        "max_latency_s": round(max(latencies), 2),
                    }
                )
            rss.stop()
    finally:
        server.terminate()
        server.wait(timeout=30)
    from PIL import Image

    with Image.open(args.photo) as im:
        size = im.size
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": " ".join(["lowlight"] + cmd[3:]),
        "backend": health["backend"],
        "workers": health["workers"],
        "photo": f"{args.photo.name} ({size[0]}x{size[1]})",
        "ready_s": round(ready, 2),
        "first_result_s": round(first, 2),
        "single_request_s": round(single, 2),
        "idle_rss_mb": round(idle / 1e6, 1),
        "concurrency": rows,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    replace(args.doc, START, END, block(result), check=False)


def check(doc: Path = DOC, results: Path = RESULTS / "serve_bench.json") -> list[str]:
    """The doc's table against the one the committed results give."""
    fresh = replace(doc, START, END, block(json.loads(results.read_text())), check=True)
    return [] if fresh else [stale(doc, "serve_bench")]


def block(r: dict) -> str:
    """The measured table of docs/serve.md, markers included."""
    lines = [
        f"Measured {r['date']} on {r['machine']} with `{r['command']}` ({r['backend']}, "
        f"{r['workers']} workers), "
        f"photo {r['photo']}:",
        "",
        f"- ready (/healthz 200) {r['ready_s']} s after the process started; "
        f"first result {r['first_result_s']} s "
        f"after it started (one request: {r['single_request_s']} s);",
        f"- server RSS while idle and ready: {r['idle_rss_mb']} MB;",
        "- machine load (1-min average) before and after: "
        f"{r['load_average_1min'][0]}, {r['load_average_1min'][1]}.",
        "",
        "| requests at once | peak RSS (MB) | wall time (s) | slowest answer (s) |",
        "| ---: | ---: | ---: | ---: |",
        *(
            f"| {row['concurrent']} | {row['peak_rss_mb']} | {row['wall_s']} | {row['max_latency_s']} |"
            for row in r["concurrency"]
        ),
    ]
    return START + "\n\n" + "\n".join(lines) + "\n\n" + END


if __name__ == "__main__":
    main()
