"""The package's layers: each module imports only from its own layer or below, and nothing imports in a circle.

The layer table below is the one place the layers are written down (the
README's Layout section describes it). Imports are read with ``ast``: module
level and function level alike, plus ``"chromatize.x.y"`` / ``"chromatize.x:f"``
strings, which are how the registries import lazily through ``importlib``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import chromatize

ROOT = Path(chromatize.__file__).parent

#: Bottom to top. A package name covers its sub-modules.
LAYERS = [
    ["color", "io", "patches", "text", "hints", "motion", "degrade"],
    ["metrics", "data", "models", "transfer", "guidance", "sources", "photo_store", "pool"],
    ["infer", "train", "suggest", "video"],
    ["batch", "evaluate", "experiments"],
    ["cli", "web", "__init__", "__main__"],
]

_LAZY = re.compile(r"^chromatize((?:\.\w+)+)(?::\w+)?$")


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer_of(name: str) -> int:
    top = name.split(".")[0]
    for i, names in enumerate(LAYERS):
        if top in names:
            return i + 1
    raise AssertionError(f"chromatize.{name} is in no layer: add it to LAYERS")


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the package that ``name`` imports (resolved to the longest known module)."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    package = name.split(".") if is_pkg and name != "__init__" else name.split(".")[:-1]
    if name == "__init__":
        package = []
    found: set[str] = set()

    def add(dotted: str) -> None:
        parts = dotted.split(".") if dotted else []
        while parts and ".".join(parts) not in known:
            parts.pop()
        if parts:
            found.add(".".join(parts))

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                mod = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("chromatize"):
                mod = node.module.removeprefix("chromatize").lstrip(".")
            else:
                continue
            for alias in node.names:  # "from . import x" may name a sub-module
                add(f"{mod}.{alias.name}" if mod else alias.name)
            add(mod)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("chromatize."):
                    add(alias.name.removeprefix("chromatize."))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            m = _LAZY.match(node.value)
            if m:
                add(m.group(1).lstrip("."))
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def test_the_graph_sees_lazy_and_function_level_imports():
    g = graph()
    assert "models.cnn" in g["models"]  # importlib, via FAMILIES
    assert "experiments.cnn_kind" in g["experiments.seed_trials"]  # importlib, via KINDS
    assert "train.cnn" in g["cli.train"]  # a function-level import


def test_no_module_imports_from_a_higher_layer():
    bad = [f"chromatize.{a} (layer {layer_of(a)}) imports chromatize.{b} (layer {layer_of(b)})"
           for a, deps in graph().items() for b in deps if layer_of(b) > layer_of(a)]
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    g = graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(g[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for node in sorted(g):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


def test_every_module_opens_with_a_docstring():
    missing = [name for name, path in modules().items()
               if not ast.get_docstring(ast.parse(path.read_text())) and name != "__main__"]
    assert not missing, missing


def test_no_private_imports_across_modules():
    """``from x import _name`` only within one module's own tests, never between package modules."""
    bad = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("chromatize")):
                bad += [f"{name}: {alias.name}" for alias in node.names if alias.name.startswith("_")]
    assert not bad, bad
