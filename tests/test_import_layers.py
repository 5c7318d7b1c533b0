"""The package's modules import one way down the layers: no cycle, counting function-level imports too.

Walks every module of ``eegiza`` with ``ast`` and collects each ``import`` / ``from ... import`` of an
``eegiza`` module, at module level and inside functions alike (a function-level import does not break a
cycle, it only hides it). A name imported from a package counts as an import of that package's
submodule when one of that name exists (a compiled extension such as ``_textnum`` is no Python module
and is left out), else of the package (``__init__``). The test fails on any cycle and prints it.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "eegiza"


def module_files() -> Dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package (packages by their __init__.py)."""
    files = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of a relative import ``from <level dots><name> import ...`` inside ``module``."""
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _is_extension(module: str) -> bool:
    """True for a compiled module of the package (``eegiza/_textnum.pyx`` and its built ``.so``)."""
    folder = PACKAGE_DIR.parent.joinpath(*module.split(".")[:-1])
    name = module.split(".")[-1]
    return any(folder.glob(f"{name}.pyx")) or any(folder.glob(f"{name}.*.so")) or any(folder.glob(f"{name}.*.pyd"))


def import_edges(files: Dict[str, Path]) -> Dict[str, Set[str]]:
    """Module -> the package modules it imports anywhere in its body."""
    edges: Dict[str, Set[str]] = {name: set() for name in files}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: List[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(module, is_package, node.level, node.module)
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    if submodule in files:
                        targets.append(submodule)
                    elif not _is_extension(submodule):
                        targets.append(source)
            for target in targets:
                while target and target not in files:  # `import eegiza.a.b.c` where c is a name
                    target = target.rpartition(".")[0]
                if target and target != module:
                    edges[module].add(target)
    return edges


def find_cycle(edges: Dict[str, Set[str]]) -> List[str]:
    """One import cycle as a list of modules (first == last), or [] when the graph has none."""
    state: Dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: List[str] = []

    def visit(module: str) -> List[str]:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[module] = 2
        return []

    for module in sorted(edges):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return []


def test_walker_sees_the_package():
    edges = import_edges(module_files())
    assert "eegiza.train" in edges and "eegiza.models.ibm1" in edges["eegiza.train"]


def test_walker_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    cycle = find_cycle(import_edges(module_files()))
    assert cycle == [], "import cycle: " + " -> ".join(cycle)
