"""smnb.exceptions: one tree, and no exception class defined anywhere else in smnb."""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

import smnb
from smnb import exceptions

PACKAGE = Path(smnb.__file__).resolve().parent
BUILTIN_ERRORS = {
    n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)
}


def defined_errors() -> dict[str, type[BaseException]]:
    return {
        name: cls
        for name, cls in vars(exceptions).items()
        if inspect.isclass(cls)
        and issubclass(cls, BaseException)
        and cls.__module__ == exceptions.__name__
    }


def test_every_error_descends_from_smnb_error() -> None:
    errors = defined_errors()
    assert {"UndecodableAudio", "Rejected", "EngineWorkerError", "LocalServerError"} <= set(errors)
    assert all(issubclass(cls, exceptions.SmnbError) for cls in errors.values())
    assert issubclass(exceptions.EngineWorkerError, RuntimeError)
    assert issubclass(exceptions.UndecodableAudio, exceptions.AudioError)
    rejected = exceptions.Rejected("invalid_config", "no such language")
    assert (rejected.error_type, rejected.reason) == ("invalid_config", "no such language")
    assert str(rejected) == "invalid_config: no such language"


def test_the_tree_in_the_docstring_names_every_class() -> None:
    doc = exceptions.__doc__ or ""
    assert all(name in doc for name in defined_errors())


def test_no_exception_class_is_defined_outside_exceptions_py() -> None:
    known = set(defined_errors()) | BUILTIN_ERRORS | {"Exception", "BaseException"}
    strays = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "exceptions.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                if bases & known:
                    strays.append(f"{path.relative_to(PACKAGE)}: {node.name}")
    assert strays == []


def test_the_public_surface_exports_every_error() -> None:
    assert set(defined_errors()) <= set(smnb.__all__)
    assert all(getattr(smnb, name) is cls for name, cls in defined_errors().items())
