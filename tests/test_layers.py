"""The package's import graph reads top-down: no cycles between modules (imports inside functions included),
and the lowest layers import nothing above them."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lowlight_cli"
BASE = {"lowlight_cli", "lowlight_cli.errors"}
"""What every layer may import: the package root (its version) and the error types."""
LOWEST = {
    "lowlight_cli.colour": set(),
    "lowlight_cli.io": {"lowlight_cli.colour"},
    "lowlight_cli.models": set(),
}
"""Layer -> the other layers it may import besides BASE."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its body."""
    graph: dict[str, set[str]] = {}
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for t in targets:
                if t.startswith("lowlight_cli") and t in modules and t != name:
                    found.add(t)
        graph[name] = found
    return graph


def layer(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_import_cycles():
    graph = imports()
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
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_lowest_layers_import_nothing_above_them():
    bad = []
    for module, targets in imports().items():
        own = layer(module)
        if own not in LOWEST:
            continue
        allowed = BASE | LOWEST[own] | {own}
        for t in targets:
            if layer(t) not in allowed and t not in BASE:
                bad.append(f"{module} imports {t}")
    assert not bad, "upward imports: " + "; ".join(sorted(bad))


PROGRESS_OWNERS = {"lowlight_cli.cli.console", "lowlight_cli.training.trainer"}
"""Where rich.progress may be imported: the CLI's one progress helper (`console.progress_bar`); the trainer
still draws its own bar until it reports progress through a callback."""


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
