"""The package's layers: the import-linter contracts of pyproject.toml hold, and can fail.

``lint-imports`` (also run by ``.ci/run``) checks the contracts in ``[tool.importlinter]``,
following imports transitively through smnb. These tests run it on this tree, check that
the import graph it builds sees the imports the contracts rely on, and that the
stdlib-only contract names every third-party package smnb imports.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONTRACTS = PYPROJECT["tool"]["importlinter"]["contracts"]
LINT_IMPORTS = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")


def lint_imports(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # analyse this tree, not an installed copy
    return subprocess.run(
        [LINT_IMPORTS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_every_contract_is_kept() -> None:
    run = lint_imports()
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(CONTRACTS)} kept, 0 broken" in run.stdout, run.stdout


def test_a_broken_contract_fails_the_check(tmp_path: Path) -> None:
    # The same machinery on a rule smnb breaks on purpose: tables are the pandas boundary.
    config = tmp_path / "broken.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "smnb"\ninclude_external_packages = true\n\n'
        '[[tool.importlinter.contracts]]\nname = "tables without pandas"\ntype = "forbidden"\n'
        'source_modules = ["smnb.tables"]\nforbidden_modules = ["pandas"]\n',
        encoding="utf-8",
    )
    run = lint_imports("--config", str(config), cwd=tmp_path)
    assert run.returncode != 0 and "BROKEN" in run.stdout, run.stdout + run.stderr
    assert "smnb.tables" in run.stdout and "pandas" in run.stdout


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        "smnb", include_external_packages=True, exclude_type_checking_imports=True
    )


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("smnb.protocol.session", "smnb.protocol.messages"),
        ("smnb.session.connect", "websockets"),
        ("smnb.tables", "pandas"),
        ("smnb.server.pocketsphinx.recognizer", "pocketsphinx"),
        ("smnb.experiment.runner", "asyncio"),  # the runner is where sweeps reach the client
        ("smnb.experiment.sessions", "smnb.session.run"),
    ],
)
def test_the_graph_sees_real_imports(
    graph: grimp.ImportGraph, importer: str, imported: str
) -> None:
    # Guards against contracts that pass because the graph silently finds nothing.
    assert graph.find_shortest_chain(importer, imported) is not None


def _third_party_imports() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "smnb").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"__future__", "smnb"}


def test_the_stdlib_only_contracts_forbid_every_third_party_import() -> None:
    stdlib_only = [c for c in CONTRACTS if "stdlib only" in c["name"]]
    assert len(stdlib_only) == 2  # the protocol core, and the sync helper
    for contract in stdlib_only:
        missing = _third_party_imports() - set(contract["forbidden_modules"])
        assert not missing, f"{contract['name']}: add {sorted(missing)} to forbidden_modules"
