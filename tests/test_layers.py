"""The package's floors: no import circle between modules, no import from a lower layer up.

Every ``import`` of ``src/lagnest`` is read with :mod:`ast`, those inside functions and
under ``TYPE_CHECKING`` included, so a lazy import counts as much as a top-level one. The
layers and what each may import are :data:`LAYERS` (ARCHITECTURE.md, "Layers"); a lower
layer reaches a higher one only through the slots of ``lagnest._hooks``.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lagnest"

#: Layer -> the layers it may import (besides itself). Module -> layer by its first
#: component under ``lagnest`` (see :func:`layer_of`).
LAYERS: dict[str, set[str]] = {
    "shared": set(),
    "data": {"shared"},
    "kernels": {"shared"},
    "io": {"shared", "data"},
    "classical": {"shared", "data", "kernels"},
    "simulate": {"shared", "data"},
    "datasets": {"shared", "data", "io", "simulate"},
    "models": {"shared", "data", "kernels", "io", "classical"},
    "checks": {"shared", "data", "kernels", "classical", "models"},
    "calibration": {"shared", "data", "kernels", "classical", "simulate", "models"},
    "viz": {"shared", "data", "classical", "models", "checks", "calibration"},
    "app": {"shared", "data", "kernels", "io", "classical", "simulate", "datasets", "models",
            "checks", "calibration", "viz"},
}
#: Packages of the app layer (the command: ``lagnest/cli/``), all of whose modules are app.
APP_PACKAGES = frozenset({"cli"})
#: Modules directly in ``lagnest/`` and their layer (anything else there fails the test).
TOP_LEVEL = {
    "__init__": "app", "cli": "app", "demo": "app",
    "errors": "shared", "_files": "shared", "_warnings": "shared", "_hooks": "shared",
    "_version": "shared", "_lang": "shared", "_summaries": "shared",
}


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the package at ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module a dotted import name refers to: itself, or the longest module prefix."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Package modules that ``module`` imports anywhere in its file (functions included)."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # ``from pkg import name``: the submodules named, else the package itself
            names = [f"{stem}.{a.name}" for a in node.names if f"{stem}.{a.name}" in modules]
            names = names or [stem]
        else:
            continue
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                out.add(target)
    return out


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> package modules it imports."""
    modules = module_names(root)
    return {m: imports_of(m, p, modules) for m, p in modules.items()}


def layer_of(module: str, root_name: str = "lagnest") -> str:
    """Layer of a dotted module name (see :data:`LAYERS`, :data:`TOP_LEVEL`)."""
    parts = module.split(".")
    if parts == [root_name]:
        return "app"
    first = parts[1]
    if (len(parts) == 2 or first in APP_PACKAGES) and first in TOP_LEVEL:
        return TOP_LEVEL[first]
    if first not in LAYERS or first in ("shared", "app"):
        raise AssertionError(f"module {module} is in no layer: add its folder to LAYERS or "
                             "move it into one")
    return first


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def upward_imports(graph: dict[str, set[str]], root_name: str = "lagnest") -> list[str]:
    """``a -> b`` lines for every import of a layer that ``a``'s layer may not import."""
    bad = []
    for a, targets in sorted(graph.items()):
        la = layer_of(a, root_name)
        for b in sorted(targets):
            lb = layer_of(b, root_name)
            if lb != la and lb not in LAYERS[la]:
                bad.append(f"{a} ({la}) -> {b} ({lb})")
    return bad


def test_no_import_circle():
    assert circles(import_graph(PACKAGE)) == []


def test_no_layer_imports_a_higher_one():
    assert upward_imports(import_graph(PACKAGE)) == []


def test_every_module_sits_in_a_layer():
    for module in import_graph(PACKAGE):
        layer_of(module)  # raises for a module outside every layer


def test_data_and_kernels_import_nothing_above_them():
    graph = import_graph(PACKAGE)
    for module, targets in graph.items():
        if layer_of(module) in ("data", "kernels"):
            assert {layer_of(t) for t in targets} <= {"shared", layer_of(module)}, module


# --------------------------------------------------------------------- the test can fail


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "lagnest"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


_CLEAN = {
    "__init__.py": "from lagnest.models import base\n",
    "errors.py": "",
    "data/__init__.py": "",
    "data/sequences.py": "from lagnest.errors import x\n",
    "models/__init__.py": "from . import base\n",
    "models/base.py": "from lagnest.data.sequences import Sequences\n",
    "checks/__init__.py": "",
    "checks/ppc.py": "from lagnest.models.base import BayesianModel\n",
}


def test_a_clean_throwaway_tree_passes(tmp_path):
    graph = import_graph(_tree(tmp_path, _CLEAN))
    assert graph["lagnest.checks.ppc"] == {"lagnest.models.base"}
    assert circles(graph) == []
    assert upward_imports(graph) == []


@pytest.mark.parametrize("where", ["top", "function", "type_checking", "relative"])
def test_an_upward_import_fails_wherever_it_hides(tmp_path, where):
    line = {
        "top": "from lagnest.checks.ppc import check\n",
        "function": "def f():\n    from lagnest.checks import ppc\n    return ppc\n",
        "type_checking": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                          "    from lagnest.checks.ppc import check\n"),
        "relative": "def f():\n    from ..checks.ppc import check\n    return check\n",
    }[where]
    files = dict(_CLEAN)
    files["models/base.py"] += line
    graph = import_graph(_tree(tmp_path, files))
    assert upward_imports(graph) == [
        "lagnest.models.base (models) -> lagnest.checks.ppc (checks)"]
    assert circles(graph) == [["lagnest.checks.ppc", "lagnest.models.base"]]


def test_a_circle_inside_one_layer_fails(tmp_path):
    files = dict(_CLEAN)
    files["data/codebook.py"] = "from lagnest.data import sequences\n"
    files["data/sequences.py"] += "def f():\n    import lagnest.data.codebook\n"
    graph = import_graph(_tree(tmp_path, files))
    assert upward_imports(graph) == []
    assert circles(graph) == [["lagnest.data.codebook", "lagnest.data.sequences"]]


def test_importing_the_root_package_from_below_fails(tmp_path):
    files = dict(_CLEAN)
    files["data/sequences.py"] += "from lagnest import __version__\n"
    assert upward_imports(import_graph(_tree(tmp_path, files))) == [
        "lagnest.data.sequences (data) -> lagnest (app)"]


def test_a_module_outside_every_layer_fails(tmp_path):
    files = dict(_CLEAN)
    files["stray.py"] = ""
    with pytest.raises(AssertionError, match=r"lagnest\.stray is in no layer"):
        for module in import_graph(_tree(tmp_path, files)):
            layer_of(module)
