"""The package layers: no import loop between livegan's packages, or between the parts of one."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import livegan

ROOT = Path(livegan.__file__).parent


def _module_name(path: Path) -> tuple[str, ...]:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported_names(source: str, package: tuple[str, ...],
                    modules: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Every module name `source` imports, wherever the import sits: at the top, inside a
    function body (a lazy import) or under TYPE_CHECKING. Relative imports resolve against
    `package`; `from pkg import module` imports that module when it is one of `modules`,
    `from pkg import name` imports pkg."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {tuple(a.name.split(".")) for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = tuple(node.module.split(".")) if node.module else ()
            if node.level:
                base = package[: len(package) - node.level + 1] + base
            for alias in node.names:
                found.add(base + (alias.name,) if base + (alias.name,) in modules else base)
    return found


def _package_of(path: Path) -> tuple[str, ...]:
    here = _module_name(path)
    return here if path.name == "__init__.py" else here[:-1]


def _imports(path: Path) -> set[tuple[str, ...]]:
    """Every livegan module `path` imports, at the top, inside a function or under
    TYPE_CHECKING."""
    modules = {_module_name(p) for p in ROOT.rglob("*.py")}
    found = _imported_names(path.read_text(encoding="utf-8"), _package_of(path), modules)
    return {name for name in found if name in modules and name[0] == "livegan"}


def _libraries(path: Path) -> set[str]:
    """The libraries (top-level names other than livegan) `path` imports, lazily or not."""
    found = _imported_names(path.read_text(encoding="utf-8"), _package_of(path), set())
    return {name[0] for name in found if name and name[0] != "livegan"}


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


# livegan's packages an inner layer never imports, lazily or not; the libraries it never
# imports; patchfile (a show's TOML file) sits above control, engine and show, and fills
# their settings
LAYER_RULES = {
    "nets": ({"control", "show", "stage", "engine", "train", "patchfile"}, set()),
    "engine": ({"control", "show", "stage", "train", "patchfile"}, set()),
    "show": ({"control", "stage", "engine", "train", "patchfile"}, set()),
    "control": ({"show", "engine", "stage", "train", "nets", "patchfile"}, {"torch", "pygame"}),
}


def _layer_breaches(graph: dict, libraries: dict) -> list[str]:
    """"module imports name" for each import that LAYER_RULES forbids."""
    bad = []
    for source, targets in graph.items():
        if len(source) < 2 or source[1] not in LAYER_RULES:
            continue
        packages, libs = LAYER_RULES[source[1]]
        bad += [f"{'.'.join(source)} imports {'.'.join(t)}" for t in sorted(targets)
                if len(t) > 1 and t[1] in packages]
        bad += [f"{'.'.join(source)} imports {lib}" for lib in sorted(libraries[source] & libs)]
    return bad


def test_inner_layers_know_nothing_of_the_outer_ones() -> None:
    """nets and engine never import control, show, stage or train; show never imports
    control, stage, engine or train (it takes uint8 frames); control never imports show,
    engine, stage, train, nets, torch or pygame (input threads only write control state).
    Imports inside function bodies count: a lazy import is an import."""
    graph = import_graph()
    libraries = {_module_name(p): _libraries(p) for p in ROOT.rglob("*.py")}
    bad = _layer_breaches(graph, libraries)
    assert not bad, bad


def test_the_rules_see_lazy_imports() -> None:
    """An import inside a function body is found like one at the top of the module."""
    source = ("import numpy\n\n\ndef build():\n    from livegan.engine import Engine\n"
              "    import torch.nn\n    return Engine\n")
    modules = {("livegan", "engine")}
    found = _imported_names(source, ("livegan", "control"), modules)
    assert {("numpy",), ("livegan", "engine"), ("torch", "nn")} <= found
    graph = {("livegan", "control", "x"): {("livegan", "engine")}}
    assert _layer_breaches(graph, {("livegan", "control", "x"): {"torch"}}) == [
        "livegan.control.x imports livegan.engine", "livegan.control.x imports torch"]


def test_control_runs_without_torch_or_pygame() -> None:
    """Every module of control imports without loading torch or pygame (what control's
    own imports pull in counts too)."""
    names = sorted(".".join(_module_name(p)) for p in (ROOT / "control").rglob("*.py"))
    code = ("import sys\n" + "".join(f"import {n}\n" for n in names)
            + "print(sorted({'torch', 'pygame'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]", f"importing livegan.control loads {out}"


MAX_MODULE_LINES = 400  # a module past this is two concepts: split it


def test_no_module_is_over_400_lines() -> None:
    long = sorted(f"{p.relative_to(ROOT.parent)} ({n})" for p in ROOT.rglob("*.py")
                  if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES)
    assert not long, long
