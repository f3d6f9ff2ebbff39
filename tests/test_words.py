"""Words that stay true: every dotted ``chromatize.`` name in the docs and docstrings resolves, every
``>>>`` example runs, and no function of the package outgrows one screen (80 lines) or 10 parameters."""

from __future__ import annotations

import ast
import doctest
import importlib
import re
from pathlib import Path

import pytest

import chromatize

ROOT = Path(chromatize.__file__).parent
REPO = ROOT.parent.parent
#: A dotted name: chromatize.a.b.c (trailing punctuation is not part of it).
DOTTED = re.compile(r"\bchromatize(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
#: The most lines and parameters (self and cls not counted) a function may have.
MAX_LINES, MAX_PARAMS = 80, 10


def package_modules() -> list[str]:
    names = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] != "__main__":
            names.append(".".join(parts))
    return names


def texts() -> dict[str, str]:
    """The README, the docs and every module's source (docstrings and comments name things too)."""
    files = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")), *sorted(ROOT.rglob("*.py"))]
    return {str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in files if p.is_file()}


def resolves(dotted: str) -> bool:
    """Whether ``chromatize.a.b.c`` names a module, or an attribute reached from the longest importable module."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def test_every_dotted_name_resolves():
    bad = sorted({f"{where}: {name}" for where, text in texts().items() for name in DOTTED.findall(text)
                  if not resolves(name.rstrip("."))})
    assert not bad, "names that no longer exist:\n" + "\n".join(bad)


def test_the_name_check_can_fail():
    assert resolves("chromatize.models.cnn.config.ARCHS") and resolves("chromatize.batch.ray")
    assert not resolves("chromatize.models.cnn.ColorNet") and not resolves("chromatize.train_mlp")


def module_file(module: str) -> Path:
    base = ROOT.parent / module.replace(".", "/")
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


@pytest.mark.parametrize("module", [m for m in package_modules() if ">>>" in module_file(m).read_text()])
def test_docstring_examples_run(module):
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(mod, module) if t.examples]
    assert tests, f"{module}: has '>>>' but no example was found"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{module}: {result.failed} of {result.attempted} examples failed"


def oversized(tree: ast.AST, where: str) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            params = [*a.posonlyargs, *a.args, *a.kwonlyargs] + [p for p in (a.vararg, a.kwarg) if p]
            params = [p for p in params if p.arg not in ("self", "cls")]
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_LINES or len(params) > MAX_PARAMS:
                out.append(f"{where}:{node.lineno} {node.name}: {lines} lines, {len(params)} parameters")
    return out


def test_no_function_is_too_long_or_takes_too_many_parameters():
    found = [line for path in sorted(ROOT.rglob("*.py"))
             for line in oversized(ast.parse(path.read_text()), str(path.relative_to(ROOT)))]
    assert not found, "\n".join(found)


def test_the_size_check_can_fail():
    long = "def f(a, b, c, d, e, f, g, h, i, j, k):\n" + "    x = 1\n" * 80
    assert len(oversized(ast.parse(long), "x")) == 1
    assert oversized(ast.parse("class A:\n    def m(self, a):\n        pass\n"), "x") == []


def test_the_readme_layout_names_every_module():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):]
    layout = layout[: layout.index("\n## ")] if "\n## " in layout else layout
    missing = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.name in ("__init__.py", "__main__.py"):
            continue
        top = rel.parts[0]
        if len(rel.parts) == 1 and f"`{rel.name}`" not in layout:
            missing.append(str(rel))
        elif len(rel.parts) > 1 and (f"`{top}/`" not in layout or f"`{rel.name}`" not in layout):
            missing.append(str(rel))
    assert not missing, "modules the README's Layout section does not name: " + ", ".join(missing)


def test_the_docs_python_calls_fit_the_api():
    """Every ``chromatize.name(...)`` call in the README's and docs' Python blocks binds to that function's
    signature (positional count and keyword names): an example that no longer runs is caught here."""
    import inspect

    bad = []
    for where, text in texts().items():
        if not where.endswith(".md"):
            continue
        for block in re.findall(r"```python\n(.*?)```", text, re.S):
            try:
                tree = ast.parse(block)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "chromatize"):
                    continue
                fn = getattr(chromatize, node.func.attr, None)
                if fn is None:
                    bad.append(f"{where}: chromatize.{node.func.attr} does not exist")
                    continue
                if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                    continue
                try:
                    inspect.signature(fn).bind(*node.args, **{k.arg: k.value for k in node.keywords})
                except TypeError as exc:
                    bad.append(f"{where}: chromatize.{node.func.attr}(...): {exc}")
    assert not bad, "\n".join(bad)
