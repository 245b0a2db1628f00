"""The package layers: no import loop between livegan's packages, or between the parts of one."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import livegan

ROOT = Path(livegan.__file__).parent


def _module_name(path: Path) -> tuple[str, ...]:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path: Path) -> set[tuple[str, ...]]:
    """Every livegan module `path` imports, at the top, inside a function or under
    TYPE_CHECKING. `from pkg import module` imports that module; `from pkg import name`
    (a name defined in pkg/__init__.py) imports the package."""
    found = set()
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here[:-1]
    modules = {_module_name(p) for p in ROOT.rglob("*.py")}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {tuple(a.name.split(".")) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = tuple(node.module.split(".")) if node.module else ()
            if node.level:
                base = package[: len(package) - node.level + 1] + base
            for alias in node.names:
                found.add(base + (alias.name,) if base + (alias.name,) in modules else base)
    return {name for name in found if name in modules and name[0] == "livegan"}


def import_graph() -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    """Module -> the livegan modules it imports."""
    return {_module_name(p): _imports(p) for p in ROOT.rglob("*.py")}


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle in a directed graph, or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def _unit_edges(graph: dict, package: tuple[str, ...]) -> dict[str, set[str]]:
    """Edges between the direct parts (subpackages, modules) of `package`."""
    depth = len(package)
    edges: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        if source[:depth] != package or len(source) <= depth:
            continue
        for target in targets:
            if target[:depth] == package and len(target) > depth and target[depth] != source[depth]:
                edges[source[depth]].add(target[depth])
    return edges


def test_no_import_loop_between_packages() -> None:
    """Between livegan's top-level packages and modules (control, engine, render, train, ...),
    and between the subpackages of one package (control's osc, midi and patch)."""
    graph = import_graph()
    packages = {name for name in graph if (ROOT.parent.joinpath(*name) / "__init__.py").exists()}
    for package in sorted(packages):
        edges = _unit_edges(graph, package)
        if package != ("livegan",):  # inside a package: its subpackages only
            wings = {name[len(package)] for name in packages
                     if len(name) == len(package) + 1 and name[: len(package)] == package}
            edges = {unit: targets & wings for unit, targets in edges.items() if unit in wings}
        cycle = _cycle(edges)
        assert cycle is None, f"import loop in {'.'.join(package)}: {' -> '.join(cycle)}"


def test_no_import_loop_between_the_modules_of_a_package() -> None:
    """Inside each package, between its modules (its __init__ included), counting lazy
    imports inside functions and those only for type checking: each module's imports
    point one way."""
    graph = import_graph()
    packages = {name for name in graph if (ROOT.parent.joinpath(*name) / "__init__.py").exists()}
    for package in sorted(packages):
        units = {name for name in graph if name[: len(package)] == package
                 and len(name) <= len(package) + 1
                 and not (len(name) == len(package) + 1 and name in packages)}
        edges = {".".join(u): {".".join(t) for t in graph[u] if t in units and t != u}
                 for u in units}
        cycle = _cycle(edges)
        assert cycle is None, f"import loop in {'.'.join(package)}: {' -> '.join(cycle)}"


def test_the_cycle_finder_finds_a_loop() -> None:
    assert _cycle({"train": {"render"}, "render": {"train"}}) == ["render", "train", "render"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_inner_layers_know_nothing_of_the_outer_ones() -> None:
    """nets and engine never import control, show, stage or train; show never imports
    control, stage, engine or train (it takes uint8 frames)."""
    graph = import_graph()
    rules = {"nets": {"control", "show", "stage", "engine", "train"},
             "engine": {"control", "show", "stage", "train"},
             "show": {"control", "stage", "engine", "train"}}
    for source, targets in graph.items():
        forbidden = rules.get(source[1], set()) if len(source) > 1 else set()
        bad = sorted(".".join(t) for t in targets if len(t) > 1 and t[1] in forbidden)
        assert not bad, f"{'.'.join(source)} imports {bad}"


MAX_MODULE_LINES = 400  # a module past this is two concepts: split it


def test_no_module_is_over_400_lines() -> None:
    long = sorted(f"{p.relative_to(ROOT.parent)} ({n})" for p in ROOT.rglob("*.py")
                  if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES)
    assert not long, long
