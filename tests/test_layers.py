"""The package's layers, checked mechanically.

Every ``import`` in ``smnb/`` is read with :mod:`ast` (including imports inside
functions, excluding ``if TYPE_CHECKING:`` blocks), and for each rule we follow
smnb-internal imports transitively: a layer that imports a helper which
imports pandas imports pandas.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "smnb"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk_runtime(tree: ast.AST) -> list[ast.AST]:
    """All nodes, skipping the bodies of ``if TYPE_CHECKING:``."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return out


@cache
def direct_imports(module: str) -> frozenset[str]:
    """Fully qualified names a module imports (submodules resolved where they exist)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in _walk_runtime(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if candidate in MODULES:
                    names.add(candidate)
    return frozenset(names)


def closure(module: str) -> tuple[set[str], set[str]]:
    """(smnb modules reached, external top-level packages reached) from ``module``."""
    seen: set[str] = set()
    external: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for name in direct_imports(current):
            if name == "smnb" or name.startswith("smnb."):
                # importing smnb.a.b runs smnb/__init__ and smnb/a/__init__ too, but
                # smnb/__init__ is lazy by design; follow the named module itself.
                if name in MODULES:
                    todo.append(name)
            else:
                external.add(name.split(".")[0])
    return seen, external


def modules_under(prefix: str) -> list[str]:
    return sorted(m for m in MODULES if m == prefix or m.startswith(prefix + "."))


STDLIB = set(sys.stdlib_module_names) | {"__future__"}
PURE_CORE = [
    "smnb.exceptions",
    "smnb.clock",
    *modules_under("smnb.recorder"),
    *modules_under("smnb.protocol"),
    "smnb.session.sync",
]
UI_LIBS = {"pandas", "ipywidgets", "anywidget", "matplotlib"}
TRANSPORT = {m for m in modules_under("smnb.session") if m != "smnb.session.sync"}


@pytest.mark.parametrize("module", PURE_CORE)
def test_protocol_core_is_stdlib_only(module: str) -> None:
    _, external = closure(module)
    assert external <= STDLIB, f"{module} reaches non-stdlib {sorted(external - STDLIB)}"


def test_transport_imports_no_tables_widgets_or_plots() -> None:
    reached, external = closure("smnb.session.transport")
    assert not external & UI_LIBS, sorted(external & UI_LIBS)
    assert not {m for m in reached if m.split(".")[1] in {"tables", "result", "widgets", "plots"}}


LEAVES = [
    m
    for prefix in ("smnb.tables", "smnb.result", "smnb.metrics", "smnb.plots")
    for m in modules_under(prefix)
] + modules_under("smnb.widgets")


@pytest.mark.parametrize("module", LEAVES)
def test_tables_plots_and_widgets_never_import_the_transport(module: str) -> None:
    reached, external = closure(module)
    assert "websockets" not in external, f"{module} reaches websockets"
    assert not reached & TRANSPORT, f"{module} reaches {sorted(reached & TRANSPORT)}"


@pytest.mark.parametrize("module", modules_under("smnb.server"))
def test_server_never_imports_the_client(module: str) -> None:
    reached, _ = closure(module)
    assert not reached & TRANSPORT, f"{module} reaches {sorted(reached & TRANSPORT)}"


@pytest.mark.parametrize(
    "module", modules_under("smnb.server.protocol") + modules_under("smnb.server.audio")
)
def test_server_protocol_and_audio_are_sans_io(module: str) -> None:
    reached, external = closure(module)
    assert not external & {"asyncio", "websockets", "pocketsphinx"}, sorted(external)
    assert not {m for m in reached if m.startswith(("smnb.server.engine", "smnb.server.app"))}


@pytest.mark.parametrize(
    "module", sorted(set(MODULES) - set(modules_under("smnb.server.pocketsphinx")))
)
def test_only_server_pocketsphinx_imports_pocketsphinx(module: str) -> None:
    # Direct imports only: the engine worker reaches the engine through smnb.server.pocketsphinx.
    assert "pocketsphinx" not in {n.split(".")[0] for n in direct_imports(module)}, module


def test_the_checker_sees_real_imports() -> None:
    # Guards against a checker that silently finds nothing.
    assert "smnb.protocol.messages" in closure("smnb.protocol.session")[0]
    assert "websockets" in closure("smnb.session.transport")[1]
    assert "smnb.session.transport" in TRANSPORT and "smnb.result.load" in LEAVES
    assert "pandas" in closure("smnb.tables")[1]
    assert "pocketsphinx" in closure("smnb.server.pocketsphinx.recognizer")[1]
