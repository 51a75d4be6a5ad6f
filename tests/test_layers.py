"""The package's import graph reads top-down: no cycles between modules (imports inside functions and
TYPE_CHECKING blocks included, relative imports resolved), and the lowest layers (`colour`, `io`, `models`)
import nothing above them, not even through the names the package root loads lazily."""

from __future__ import annotations

import ast
from pathlib import Path

import lowlight_cli

PACKAGE = Path(__file__).resolve().parents[1] / "lowlight_cli"
BASE = {"lowlight_cli", "lowlight_cli.errors"}
"""What every layer may import: the package root (its version) and the error types."""
LOWEST = {
    "lowlight_cli.colour": set(),
    "lowlight_cli.io": {"lowlight_cli.colour"},
    "lowlight_cli.models": set(),
}
"""Layer -> the other layers it may import besides BASE."""


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(package: Path = PACKAGE, lazy: dict[str, str] | None = None) -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its body. `lazy`: the root's name -> module map
    (`lowlight_cli._LAZY`), so `from lowlight_cli import Enhancer` counts as importing its module."""
    lazy = lowlight_cli._LAZY if lazy is None else lazy
    root = package.name
    files = sorted(package.rglob("*.py"))
    modules = {module_name(p, package) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        name = module_name(path, package)
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here[: len(here) - node.level + 1]) if node.level else ""
                module = ".".join(p for p in (base, node.module or "") if p)
                targets = [module] + [f"{module}.{a.name}" for a in node.names]
                if module == root:
                    targets += [lazy[a.name] for a in node.names if a.name in lazy]
            for t in targets:
                if t.split(".")[0] == root and t in modules and t != name:
                    found.add(t)
        graph[name] = found
    return graph


def layer(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    # a package's __init__ importing its own submodules is not a cycle of the code's layers
    edges = {
        m: {t for t in ts if not (t.startswith(m + ".") or m.startswith(t + "."))} for m, ts in graph.items()
    }
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    return cycles


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in graph.items():
        own = layer(module)
        if own not in LOWEST:
            continue
        allowed = BASE | LOWEST[own] | {own}
        for t in targets:
            if layer(t) not in allowed and t not in BASE:
                bad.append(f"{module} imports {t}")
    return sorted(bad)


def test_no_import_cycles():
    cycles = find_cycles(imports())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def layer_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Module graph -> the graph of the package's layers (its sub-packages and top modules), without BASE."""
    layers: dict[str, set[str]] = {}
    for module, targets in graph.items():
        own = layer(module)
        layers.setdefault(own, set()).update(layer(t) for t in targets if layer(t) not in BASE | {own})
    return layers


def test_no_cycles_between_layers():
    """The layers themselves read top-down: no two sub-packages lean on each other, even through
    different modules (inference.enhancer -> extras -> inference would pass the module check)."""
    cycles = find_cycles(layer_graph(imports()))
    assert not cycles, "cycles between layers: " + "; ".join(" -> ".join(c) for c in cycles)


def test_lowest_layers_import_nothing_above_them():
    bad = upward_imports(imports())
    assert not bad, "upward imports: " + "; ".join(bad)


def test_the_checks_see_imports_inside_functions_relative_ones_and_lazy_root_names(tmp_path):
    """On a made-up package shaped like ours: every way of importing is an edge, and both checks fail."""
    pkg = tmp_path / "lowlight_cli"
    files = {
        "__init__.py": "",
        "colour.py": "",
        "errors.py": "",
        "io/__init__.py": "",
        "io/images.py": "def read():\n    from lowlight_cli.inference import enhancer\n",
        "models/__init__.py": "",
        "models/net.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..inference import tiles\n"
        ),
        "models/gate.py": "from lowlight_cli import Enhancer\n",
        "inference/__init__.py": "",
        "inference/enhancer.py": "from . import tiles\n",
        "inference/tiles.py": "import lowlight_cli.inference.enhancer\n",
        "inference/files.py": "from lowlight_cli.io import images\n",  # no module cycle, a layer cycle
    }
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    graph = imports(pkg, lazy={"Enhancer": "lowlight_cli.inference.enhancer"})
    assert graph["lowlight_cli.io.images"] == {"lowlight_cli.inference", "lowlight_cli.inference.enhancer"}
    assert graph["lowlight_cli.models.net"] == {"lowlight_cli.inference", "lowlight_cli.inference.tiles"}
    assert graph["lowlight_cli.models.gate"] == {"lowlight_cli", "lowlight_cli.inference.enhancer"}
    assert find_cycles(graph) == [
        ["lowlight_cli.inference.enhancer", "lowlight_cli.inference.tiles", "lowlight_cli.inference.enhancer"]
    ]
    assert find_cycles(layer_graph(graph)) == [
        ["lowlight_cli.inference", "lowlight_cli.io", "lowlight_cli.inference"]
    ]
    assert upward_imports(graph) == [
        "lowlight_cli.io.images imports lowlight_cli.inference",
        "lowlight_cli.io.images imports lowlight_cli.inference.enhancer",
        "lowlight_cli.models.gate imports lowlight_cli.inference.enhancer",
        "lowlight_cli.models.net imports lowlight_cli.inference",
        "lowlight_cli.models.net imports lowlight_cli.inference.tiles",
    ]


def test_the_root_exports_exactly_what_it_loads_lazily():
    """`__all__` is written out for linters and type checkers: it must stay the `_LAZY` names, each one
    loading."""
    assert lowlight_cli.__all__ == ["__version__", *lowlight_cli._LAZY]
    for name in lowlight_cli._LAZY:
        assert getattr(lowlight_cli, name).__name__ == name


PROGRESS_OWNERS = {"lowlight_cli.cli.console"}
"""Where rich.progress may be imported: the CLI's one progress helper (`console.progress_bar`); the API
reports progress through callbacks."""


def test_progress_bars_come_from_one_helper():
    users = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "rich.progress" or n.startswith("rich.progress.") for n in names):
                users.add(module_name(path))
    assert users <= PROGRESS_OWNERS, sorted(users - PROGRESS_OWNERS)
