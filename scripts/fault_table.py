"""Run every case of issue 12 (filesystem faults, bad settings, interrupted runs) against one source tree.

    python scripts/fault_table.py --repo . --out docs/results/faults-after.csv
    python scripts/fault_table.py --repo /tmp/lowlight-6f9dc47 --out docs/results/faults-before.csv
    python scripts/fault_table.py --table docs/results/faults-before.csv docs/results/faults-after.csv \
        > docs/results/faults.md

Each case sets up its files in a fresh temporary folder, runs `python -m lowlight_cli ...` with the tree under
test first on PYTHONPATH (test images come from this checkout's tests/data), and records the exit code, the
first line of stderr+stdout, whether a Python traceback was printed, and what the case checks on disk (a
leftover folder, a rewritten file, a partial file...). "Offline" is a proxy on a closed local port, so every
connection is refused at once. The full-disk and read-only cases use a real tmpfs (size-limited, or mounted
read-only) when this process may mount one (root with CAP_SYS_ADMIN), else a chmod 0555 folder (read-only
only) and say so in the row.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

HERE = Path(__file__).resolve().parents[1]
DATA = HERE / "tests" / "data"
SAMPLE = DATA / "official" / "sample_5047.jpg"
PHOTOS = sorted((DATA / "synth").glob("*.jpg"))
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
           "HF_HUB_ETAG_TIMEOUT": "5", "HF_HUB_DOWNLOAD_TIMEOUT": "5"}
TINY_MODEL = ("{attention_channels: [4, 4, 4], fem_layers: 2, fem_channels: 4, branches: [can, resnet], "
              "branch_attention: [false, true], can_channels: 4, can_dilations: [1, 2], noise_channels: 4, "
              "noise_dilations: [1]}")
FIELDS = ["case", "command", "exit", "seconds", "traceback", "first_line", "check"]

REPO: Path = HERE


class Result(dict):
    pass


def run(args: list[str], cwd: Path, env: dict | None = None, timeout: float = 300) -> Result:
    """`python -m lowlight_cli ARGS` in `cwd` against the tree under test."""
    full_env = {k: v for k, v in os.environ.items() if k != "LOWLIGHT_DEBUG"}
    full_env.update({"PYTHONPATH": str(REPO), "COLUMNS": "200", "NO_COLOR": "1", **(env or {})})
    start = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-m", "lowlight_cli", *args], cwd=cwd, env=full_env,
                           capture_output=True, text=True, timeout=timeout)
        code, text = p.returncode, (p.stderr + p.stdout)
    except subprocess.TimeoutExpired as exc:
        code, text = "timeout", (exc.stderr or b"").decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
    return _result(args, code, text, time.perf_counter() - start)


def _result(args: list[str], code, text: str, seconds: float) -> Result:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    first = errors[0] if errors else (lines[-1] if "Traceback" in text and lines else (lines[0] if lines else ""))
    return Result(command="lowlight " + " ".join(args), exit=code, seconds=f"{seconds:.1f}",
                  traceback="yes" if "Traceback (most recent call last)" in text else "no",
                  first_line=first[:160], lines=len(lines), text=text)


def can_mount() -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    with tempfile.TemporaryDirectory() as d:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d], capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", d], check=True)
        return ok


MOUNT = False


@contextmanager
def readonly_dir(root: Path) -> Iterator[tuple[Path, str]]:
    ro = root / "RO"
    ro.mkdir()
    if MOUNT:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)], check=True)
        try:
            yield ro, "read-only tmpfs"
        finally:
            subprocess.run(["umount", str(ro)], check=True)
    else:
        ro.chmod(0o555)
        try:
            yield ro, "chmod 0555" + (" (root: writes anyway)" if os.geteuid() == 0 else "")
        finally:
            ro.chmod(0o755)


@contextmanager
def small_disk(root: Path, size: str) -> Iterator[Path | None]:
    disk = root / "DISK"
    disk.mkdir()
    if not MOUNT:
        yield None
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def photos(root: Path, n: int = 3, name: str = "in") -> Path:
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    for p in PHOTOS[:n]:
        shutil.copy(p, d / p.name)
    return d


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


# --- cases -------------------------------------------------------------------------------------------------

def write_readonly(root: Path) -> Result:
    src = photos(root)
    with readonly_dir(root) as (ro, how):
        r = run(["enhance", str(src), "-o", str(ro), "-q"], root)
        r["check"] = f"{how}; outputs written: {len(listing(ro))}"
    return r


def write_parent_is_file(root: Path) -> Result:
    src = photos(root)
    r = run(["enhance", str(src), "-o", str(src / PHOTOS[0].name / "x"), "-q"], root)
    r["check"] = f"files in input folder: {len(listing(src))} (3 before)"
    return r


def write_full_disk(root: Path) -> Result:
    src = photos(root)
    with small_disk(root, "420k") as disk:
        if disk is None:
            return Result(command="(needs a tmpfs mount)", exit="", traceback="", first_line="not run", check="")
        r = run(["enhance", str(src), "-o", str(disk), "--format", "png", "-q"], root)
        files = listing(disk)
        partial = [f for f in files if ".part" in f]
        r["command"] = r["command"].replace(str(disk), "FULL(420k tmpfs)")
        r["check"] = f"complete outputs: {len(files) - len(partial)}, partial files: {len(partial)}"
    return r


def eval_readonly(root: Path) -> Result:
    src = photos(root, 2)
    with readonly_dir(root) as (ro, how):
        r = run(["eval", "--data", str(src), "--baseline", "gamma", "-o", str(ro / "rep"), "-q"], root)
        r["check"] = how
    return r


def synth_readonly(root: Path) -> Result:
    src = photos(root, 2)
    with readonly_dir(root) as (ro, how):
        r = run(["synth", "--src", str(src), "--out", str(ro / "s"), "--no-darkness", "--no-blur", "--no-colour",
                 "--workers", "0", "-q"], root)
        r["check"] = how
    return r


def make_synth(root: Path) -> Path:
    src = photos(root, 3, "photos")
    out = root / "pairs"
    run(["synth", "--src", str(src), "--out", str(out), "--no-darkness", "--no-blur", "--no-colour",
         "--test-fraction", "0.34", "--workers", "0", "-q"], root)
    return out


def train_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(data), "--out", str(out), "--init", "scratch", "--set", f"model={TINY_MODEL}",
            "--set", "crop=32", "--set", "val_crop=64", "--set", "batch=1", "--set", "workers=0",
            "--set", "stages=[{name: joint, steps: 1}]", "--set", "val_images=1", "--set", "noise_net=false", "-q",
            *extra]


def train_readonly(root: Path) -> Result:
    data = make_synth(root)
    with readonly_dir(root) as (ro, how):
        r = run(train_args(data, ro / "run"), root)
        r["check"] = how
    return r


def output_inside_input(root: Path) -> Result:
    src = photos(root, 2)
    for _ in range(3):
        r = run(["enhance", str(src), "-r", "-o", str(src / "out"), "-q"], root)
    nested = [f for f in listing(src / "out") if f.startswith("out/")]
    r["command"] += "  (3 times)"
    r["check"] = f"files under in/out/out: {len(nested)}"
    return r


def sigterm(root: Path) -> Result:
    src = photos(root, 3)
    out = root / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = ["enhance", str(src), "-o", str(out), "--format", "png", "-q"]
    start = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "lowlight_cli", *args], cwd=root, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:  # stop it while it writes its second file
        if any(".part" in f for f in listing(out)) and len([f for f in listing(out) if ".part" not in f]) >= 1:
            break
        time.sleep(0.002)
    p.send_signal(signal.SIGTERM)
    text, _ = p.communicate(timeout=60)
    r = _result(args, p.returncode, text, time.perf_counter() - start)
    files = listing(out)
    r["command"] = "lowlight " + " ".join(args) + "  (SIGTERM while writing)"
    r["check"] = f"complete outputs: {len([f for f in files if '.part' not in f])}, partial files: " \
                 f"{len([f for f in files if '.part' in f])}"
    return r


def stale_part(root: Path) -> Result:
    src = photos(root, 1)
    out = root / "out"
    out.mkdir()
    stale = out / f".{PHOTOS[0].stem}.k3j_x9q2.part.jpg"  # what atomic_path names a temporary file
    stale.write_bytes(b"")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    r = run(["enhance", str(src), "-o", str(out), "-q"], root)
    r["command"] += "  (a 0-byte .part left by a killed run)"
    r["check"] = f"stale .part still there: {'yes' if stale.exists() else 'no'}"
    return r


def train_existing_run(root: Path) -> Result:
    data = make_synth(root)
    run_dir = root / "run"
    first = run(train_args(data, run_dir), root)
    if first["exit"] != 0:
        return Result(command="(first run failed)", exit=first["exit"], traceback=first["traceback"],
                      first_line=first["first_line"], check="")
    before = sha(run_dir / "checkpoint.pt")
    r = run(train_args(data, run_dir, "--set", "seed=7"), root)
    r["command"] = "lowlight train ... --out EXISTING_RUN"
    r["check"] = f"checkpoint.pt replaced: {'yes' if sha(run_dir / 'checkpoint.pt') != before else 'no'}"
    return r


def config_case(override: str) -> Callable[[Path], Result]:
    def case(root: Path) -> Result:
        data = make_synth(root)
        run_dir = root / "run"
        r = run([*train_args(data, run_dir), "--set", override], root)
        r["command"] = f"lowlight train ... --set '{override}'"
        r["check"] = f"run folder left: {'yes' if run_dir.exists() else 'no'}"
        return r

    case.__name__ = f"config {override}"
    return case


def bench_case(*args: str, check: Callable[[Path, Result], str] | None = None) -> Callable[[Path], Result]:
    def case(root: Path) -> Result:
        r = run(["bench", *args, "-o", str(root / "bench")], root)
        r["command"] = r["command"].replace(str(root / "bench"), "bench")
        r["check"] = check(root, r) if check else ""
        return r

    return case


def bench_table_rows(root: Path, r: Result) -> str:
    md = root / "bench" / "bench.md"
    if not md.exists():
        return "no bench.md"
    rows = [line for line in md.read_text().splitlines() if line.startswith("|") and "---" not in line]
    return f"bench.md table rows: {max(len(rows) - 1, 0)}"


def push_offline(root: Path) -> Result:
    r = run(["weights", "push", "official", "me/agllnet-test"], root, OFFLINE)
    r["check"] = f"output lines: {r['lines']}"
    return r


def hf_offline(root: Path) -> Result:
    src = photos(root, 1)
    r = run(["enhance", str(src), "-o", str(root / "out"), "-w", "hf://nobody/none@main/model.safetensors", "-q"],
            root, OFFLINE)
    r["check"] = f"{r['seconds']} s on a busy machine, retry messages: {r['text'].count('Retrying in')}, " \
                 f"output lines: {r['lines']}"
    return r


def pull_offline(root: Path) -> Result:
    r = run(["weights", "pull", "hf://nobody/none@main/model.safetensors"], root, OFFLINE)
    text = r["text"].replace("\n", " ")
    advice = "advises `weights pull`" if "weights pull" in text else "no circular advice"
    r["check"] = f"{advice}; output lines: {r['lines']}"
    return r


def export_bundled(root: Path) -> Result:
    manifest = REPO / "weights" / "official" / "onnx" / "manifest.json"
    before = manifest.read_bytes()
    r = run(["export", "-w", "official"], root)
    after = manifest.read_bytes()
    r["check"] = f"bundled manifest.json rewritten: {'yes' if after != before else 'no'}"
    if after != before:
        manifest.write_bytes(before)  # put it back
    return r


def api_uint8(root: Path) -> Result:
    code = ("import numpy as np; from PIL import Image; from lowlight_cli.inference.enhancer import Enhancer;"
            f"a = np.asarray(Image.open({str(PHOTOS[0])!r}).convert('RGB'));"
            "r = Enhancer(device='cpu').enhance(a).image;"
            "print(f'dtype in {a.dtype}, result mean {float(r.mean()):.3f}, white share {float((r > 0.99).mean()):.2f}')")
    return python_case(root, code, "Enhancer().enhance(uint8 array)")


def python_case(root: Path, code: str, label: str, env: dict | None = None) -> Result:
    start = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, timeout=300)
    r = _result([], p.returncode, p.stderr + p.stdout, time.perf_counter() - start)
    r["command"] = label
    out = [line for line in p.stdout.splitlines() if line.strip()]
    r["first_line"] = out[-1] if out and p.returncode == 0 else r["first_line"]
    r["check"] = ""
    return r


def no_onnxruntime(root: Path) -> Result:
    blocker = root / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'onnxruntime' or name.startswith('onnxruntime.'):\n"
        "            raise ModuleNotFoundError(\"No module named 'onnxruntime'\", name=name)\n"
        "sys.meta_path.insert(0, _Block())\n")
    src = photos(root, 1)
    env = {"PYTHONPATH": f"{blocker}{os.pathsep}{REPO}"}
    full_env = {**os.environ, "COLUMNS": "200", **env}
    start = time.perf_counter()
    args = ["enhance", str(src), "-o", str(root / "out"), "--backend", "onnx", "-q"]
    p = subprocess.run([sys.executable, "-m", "lowlight_cli", *args], cwd=root, env=full_env, capture_output=True,
                       text=True, timeout=300)
    r = _result(args, p.returncode, p.stderr + p.stdout, time.perf_counter() - start)
    r["command"] = "lowlight enhance in/ --backend onnx  (onnxruntime not importable)"
    r["check"] = ""
    return r


def clip(root: Path, name: str = "night.mp4", vfr: bool = False) -> Path:
    sys.path.insert(0, str(HERE / "tests"))
    from test_video import RATE, TB, make_clip  # noqa: E402  (the test suite's clip maker)

    step = TB.denominator // RATE
    durations = [step, 3 * step, step, 2 * step, step, 4 * step, step, 2 * step] if vfr else None
    return make_clip(root / name, durations=durations, frames=8, audio=not vfr)  # VFR: the video stream sets the duration


def video_vfr(root: Path) -> Result:
    import av

    src = clip(root, vfr=True)
    out = root / "out.mp4"
    r = run(["video", str(src), str(out), "--device", "cpu", "--quiet"], root)

    def span(path: Path) -> str:
        if not path.exists():
            return "none"
        with av.open(str(path)) as c:
            v = c.streams.video[0]
            frames = len(list(c.decode(v)))
            return f"{c.duration / av.time_base:.4f} s ({frames} frames)"

    r["command"] += "  (VFR clip)"
    r["check"] = f"duration in {span(src)}, out {span(out)}"
    return r


def video_case(make_args: Callable[[Path, Path], list[str]], label: str) -> Callable[[Path], Result]:
    def case(root: Path) -> Result:
        src = clip(root)
        r = run(make_args(root, src), root)
        r["command"] = label
        r["check"] = ""
        return r

    return case


def multipage_tiff(root: Path) -> Result:
    import numpy as np
    import tifffile
    from PIL import Image

    src = root / "in"
    src.mkdir()
    pages = [np.asarray(Image.open(p).convert("RGB").resize((96, 64))) // 4 for p in PHOTOS]
    tifffile.imwrite(src / "scan.tif", np.stack(pages), photometric="rgb")
    r = run(["enhance", str(src / "scan.tif"), "-o", str(root / "out"), "-q"], root)
    out = root / "out" / "scan.tif"
    n = len(tifffile.TiffFile(out).pages) if out.exists() else 0
    r["check"] = f"pages in 3, out {n}" if out.exists() else "no output"
    return r


def float_tiff(root: Path) -> Result:
    import numpy as np
    import tifffile
    from PIL import Image

    src = root / "in"
    src.mkdir()
    a = np.asarray(Image.open(PHOTOS[0]).convert("RGB").resize((96, 64)), np.float32) / 255 / 4
    tifffile.imwrite(src / "hdr.tif", a, photometric="rgb")
    r = run(["enhance", str(src / "hdr.tif"), "-o", str(root / "out"), "-q"], root)
    out = root / "out" / "hdr.tif"
    if out.exists():
        b = tifffile.imread(out)
        r["check"] = f"out dtype {b.dtype}, mean in {a.mean():.3f} out {float(b.mean()):.3f}"
    else:
        r["check"] = "no output"
    return r


def synth_empty(root: Path) -> Result:
    (root / "empty").mkdir()
    r = run(["synth", "--src", str(root / "empty"), "--out", str(root / "s"), "--workers", "0", "-q"], root)
    r["check"] = f"output folder left: {'yes' if (root / 's').exists() else 'no'}"
    return r


def synth_non_images(root: Path) -> Result:
    d = root / "docs"
    d.mkdir()
    (d / "notes.txt").write_text("not a photo")
    (d / "fake.jpg").write_bytes(b"this is not a jpeg")
    r = run(["synth", "--src", str(d), "--out", str(root / "s"), "--workers", "0", "-q"], root)
    r["check"] = f"output folder left: {'yes' if (root / 's').exists() else 'no'}"
    return r


def debug_flag(root: Path) -> Result:
    r = run(["--debug", "enhance", str(root / "missing-folder/*.jpg")], root)
    r["check"] = ""
    return r


def debug_env(root: Path) -> Result:
    r = run(["enhance", str(root / "missing-folder/*.jpg")], root, {"LOWLIGHT_DEBUG": "1"})
    r["command"] = "LOWLIGHT_DEBUG=1 " + r["command"]
    r["check"] = ""
    return r


def _strip(root: Path, r: Result) -> Result:
    for key in ("command", "first_line", "check"):
        r[key] = str(r.get(key, "")).replace(str(root) + "/", "").replace(str(root), ".")
    return r


CASES: list[tuple[str, Callable[[Path], Result]]] = [
    ("write: -o read-only folder", write_readonly),
    ("write: -o below a file", write_parent_is_file),
    ("write: full disk (ENOSPC)", write_full_disk),
    ("write: eval -o read-only", eval_readonly),
    ("write: synth --out read-only", synth_readonly),
    ("write: train --out read-only", train_readonly),
    ("output folder inside the input tree", output_inside_input),
    ("SIGTERM during a batch", sigterm),
    ("stale .part from a killed run", stale_part),
    ("train --out EXISTING_RUN", train_existing_run),
    ("config: typo in stages", config_case("stages=[{name: joint, step: 2}]")),
    ("config: lr=-1", config_case("lr=-1")),
    ("config: batch=0", config_case("batch=0")),
    ("config: crop=abc", config_case("crop=abc")),
    ("bench --sizes -1", bench_case("--sizes", "-1", "--backends", "onnx")),
    ("bench --sizes abc", bench_case("--sizes", "abc", "--backends", "onnx")),
    ("bench fp16 on CPU", bench_case("--precisions", "fp16", "--device", "cpu", "--backends", "onnx", "--sizes",
                                     "0.05", check=bench_table_rows)),
    ("bench bad --video", bench_case("--video", "missing.mp4", "--backends", "onnx", "--sizes", "0.05,0.1",
                                     check=lambda root, r: f"image cases run before the error: {r['text'].count('MP/s')}")),
    ("weights push offline", push_offline),
    ("hf:// weights offline", hf_offline),
    ("weights pull offline", pull_offline),
    ("export -w official (default --out)", export_bundled),
    ("API: uint8 array", api_uint8),
    ("--backend onnx without onnxruntime", no_onnxruntime),
    ("video: VFR timing", video_vfr),
    ("video: output is a folder", video_case(lambda root, src: ["video", str(src), str(root), "--quiet"],
                                             "lowlight video night.mp4 EXISTING_FOLDER")),
    ("video: unknown extension", video_case(lambda root, src: ["video", str(src), str(root / "out.xyz"), "--quiet"],
                                            "lowlight video night.mp4 out.xyz")),
    ("video: onnx-tensorrt on cpu", video_case(
        lambda root, src: ["video", str(src), str(root / "o.mp4"), "--backend", "onnx-tensorrt", "--device", "cpu",
                           "--quiet"], "lowlight video night.mp4 o.mp4 --backend onnx-tensorrt --device cpu")),
    ("multi-page TIFF", multipage_tiff),
    ("float32 TIFF", float_tiff),
    ("synth: empty folder", synth_empty),
    ("synth: folder of non-images", synth_non_images),
    ("--debug shows the traceback", debug_flag),
    ("LOWLIGHT_DEBUG=1 shows the traceback", debug_env),
]


def run_all(only: list[str] | None) -> list[dict]:
    rows = []
    for name, case in CASES:
        if only and not any(o in name for o in only):
            continue
        with tempfile.TemporaryDirectory(prefix="fault-") as d:
            root = Path(d)
            try:
                r = case(root)
            except Exception as exc:  # a broken set-up is recorded, not hidden
                r = Result(command="(set-up failed)", exit="", traceback="", first_line=f"{type(exc).__name__}: {exc}",
                           check="")
            r = _strip(root, r)
        row = {"case": name, **{k: r.get(k, "") for k in FIELDS[1:]}}
        print(f"{name}: exit {row['exit']}, traceback {row['traceback']}, {row['first_line'][:100]} | {row['check']}",
              file=sys.stderr)
        rows.append(row)
    return rows


def table(before: Path, after: Path) -> str:
    def load(path: Path) -> dict[str, dict]:
        with open(path, newline="") as f:
            return {r["case"]: r for r in csv.DictReader(f)}

    b, a = load(before), load(after)

    def cell(r: dict | None) -> str:
        if not r:
            return "not run"
        text = f"exit {r['exit']}" + (", **traceback**" if r["traceback"] == "yes" else "")
        if r["first_line"]:
            text += f": `{r['first_line'][:110].replace('|', '/').replace('`', '')}`"
        if r["check"]:
            text += f"; {r['check'].replace('|', '/')}"
        return text

    lines = ["| case | command | before (6f9dc47) | after |", "|---|---|---|---|"]
    for name in a:
        cmd = a[name]["command"].replace("|", "/")
        lines.append(f"| {name} | `{cmd[:120]}` | {cell(b.get(name))} | {cell(a.get(name))} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    global REPO, MOUNT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=HERE, help="Source tree whose lowlight_cli is run.")
    parser.add_argument("--out", type=Path, help="CSV to write.")
    parser.add_argument("--only", nargs="*", help="Run only the cases whose name contains one of these.")
    parser.add_argument("--table", nargs=2, type=Path, metavar=("BEFORE", "AFTER"), help="Print the Markdown table.")
    args = parser.parse_args()
    if args.table:
        print(table(*args.table), end="")
        return
    REPO = args.repo.resolve()
    MOUNT = can_mount()
    print(f"tree {REPO}; tmpfs mounts: {'yes' if MOUNT else 'no'}", file=sys.stderr)
    rows = run_all(args.only)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.only and args.out.exists():  # re-run of some cases: replace their rows, keep the others
            with open(args.out, newline="") as f:
                old = {r["case"]: r for r in csv.DictReader(f)}
            old.update({r["case"]: r for r in rows})
            rows = [old[name] for name, _ in CASES if name in old]
        with open(args.out, "w", newline="") as f:
            w = csv.DictWriter(f, FIELDS)
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
