"""The public surface: one sorted ``__all__``, every name importable, heavy parts lazy."""

from __future__ import annotations

import subprocess
import sys

import smnb


def test_all_is_sorted_strings_and_complete() -> None:
    assert all(isinstance(name, str) for name in smnb.__all__)
    assert list(smnb.__all__) == sorted(smnb.__all__)
    for name in smnb.__all__:
        assert getattr(smnb, name) is not None, name


def test_every_error_is_in_one_tree() -> None:
    errors = [
        getattr(smnb, n)
        for n in smnb.__all__
        if n.endswith("Error") or n in {"ConnectionLost", "SessionTimeout", "SessionCancelled"}
    ]
    assert errors and all(issubclass(e, smnb.SmnbError) for e in errors)
    assert issubclass(smnb.SessionTimeout, TimeoutError)
    assert issubclass(smnb.ConfigError, ValueError)


def test_import_smnb_is_light() -> None:
    # pandas, matplotlib, widgets and the server load on first use, not on import.
    code = (
        "import sys, smnb; heavy = {'pandas', 'matplotlib', 'ipywidgets', 'websockets', "
        "'pocketsphinx'} & set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        smnb.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
