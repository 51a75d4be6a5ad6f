"""The one runner of the benchmark generators.

    python -m benchmarks                  # list them, with what each makes
    python -m benchmarks NAME [ARGS]      # run one; python -m benchmarks NAME --help gives its options
    python -m benchmarks --check          # every generated table and summary against the committed results

`--check` recomputes nothing expensive: it regenerates each generated table (and the look benchmark's
summaries) in memory from the committed result files, compares it with the file in the checkout, and exits 1
with one line per stale file naming the generator to rerun. It needs neither the shared data sets nor a
network.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATORS = {
    # name (benchmarks/NAME.py): what it makes
    "make_look_sets": "data set",
    "look_benchmark": "results",
    "look_tables": "tables",
    "lite_cost": "results",
    "keep_colour_dark": "results",
    "train_speed": "results",
    "speed_results": "results",
    "batch_sizes": "results",
    "bf16_cpu": "results",
    "fast_mode_quality": "results",
    "fast_video": "results",
    "performance_tables": "tables",
    "scale_bench": "results",
    "serve_bench": "results",
    "readme_images": "pictures",
    "fast_frame_pair": "pictures",
    "serve_screenshot": "pictures",
}
"""Every generator, in the order a full rebuild would run them: `data set` builds benchmark inputs, `results`
measures and writes committed result files, `tables` writes doc tables from them, `pictures` the docs'
images."""
HELPERS = ("paths", "doc_blocks")
"""Modules of this folder that are not generators."""


def docstring(name: str) -> ast.Module:
    return ast.parse((HERE / f"{name}.py").read_text(encoding="utf-8"))


def has_check(name: str) -> bool:
    """Whether benchmarks/NAME.py defines `check()` (read from its source: listing imports nothing heavy)."""
    return any(isinstance(n, ast.FunctionDef) and n.name == "check" for n in docstring(name).body)


def listing() -> str:
    lines = [__doc__.split("\n")[0], "", "generators (benchmarks/NAME.py; --check: its tables are checked):"]
    width = max(map(len, GENERATORS))
    for name, kind in GENERATORS.items():
        first = (ast.get_docstring(docstring(name)) or "").split("\n")[0]
        check = " [--check]" if has_check(name) else ""
        lines.append(f"  {name:<{width}}  {kind:<9} {first}{check}")
    lines += ["", "usage: python -m benchmarks NAME [ARGS] | python -m benchmarks --check"]
    return "\n".join(lines)


def check_all() -> list[str]:
    """One line per stale file, over every generator with a `check()`."""
    problems = []
    for name in GENERATORS:
        if has_check(name):
            found = importlib.import_module(f"benchmarks.{name}").check()
            print(f"{name}: {'ok' if not found else f'{len(found)} stale'}", flush=True)
            problems += found
    return problems


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "--list"):
        print(listing())
        return
    if args[0] == "--check":
        if len(args) > 1:
            sys.exit("python -m benchmarks --check takes no arguments; for one generator: NAME --check")
        problems = check_all()
        if problems:
            sys.exit("\n".join(problems))
        return
    name, rest = args[0].replace("-", "_"), args[1:]
    if name not in GENERATORS:
        sys.exit(f"python -m benchmarks: no generator {args[0]!r} (one of: {', '.join(GENERATORS)})")
    sys.argv = [f"python -m benchmarks {name}", *rest]  # argparse names the program after argv[0]
    importlib.import_module(f"benchmarks.{name}").main()


if __name__ == "__main__":
    main()
