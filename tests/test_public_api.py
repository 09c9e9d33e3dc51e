"""The public surface: one sorted ``__all__``, every name importable, heavy parts lazy."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


# --- every documented name resolves after a bare ``import smnb`` ------------------------

ROOT = Path(__file__).resolve().parents[1]
DOTTED = re.compile(r"\bsmnb(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def documented_names() -> dict[str, str]:
    """Every dotted ``smnb.x.y`` written in README, docs and notebooks → where it was seen."""
    texts: list[tuple[str, str]] = [("README.md", (ROOT / "README.md").read_text("utf-8"))]
    texts += [(f"docs/{p.name}", p.read_text("utf-8")) for p in sorted(ROOT.glob("docs/*.md"))]
    for nb in sorted(ROOT.glob("notebooks/*.ipynb")):
        cells = json.loads(nb.read_text("utf-8"))["cells"]
        for cell in cells:
            source = cell["source"]
            texts.append((f"notebooks/{nb.name}", "".join(source)))
    names: dict[str, str] = {}
    for where, text in texts:
        for name in DOTTED.findall(text):
            names.setdefault(name, where)
    return names


RESOLVE = """
import json, sys
import smnb
failed = []
for name in json.loads(sys.argv[1]):
    obj = smnb
    try:
        for part in name.split(".")[1:]:
            obj = getattr(obj, part)
    except Exception as exc:
        failed.append(f"{name}: {type(exc).__name__}: {exc}")
print(json.dumps(failed))
"""


def test_every_dotted_name_in_the_docs_resolves_after_a_bare_import() -> None:
    names = documented_names()
    assert len(names) >= 30 and "smnb.server.serve" in names  # the extraction finds them
    out = subprocess.run(
        [sys.executable, "-c", RESOLVE, json.dumps(sorted(names))],
        capture_output=True,
        text=True,
        check=True,
    )
    failed = json.loads(out.stdout)
    assert failed == [], "\n".join(f"{f} (in {names[f.split(':')[0]]})" for f in failed)


def test_subpackages_and_user_types_are_attributes_after_a_bare_import() -> None:
    code = (
        "import smnb\n"
        "assert callable(smnb.server.serve) and smnb.widgets.BrowserMic is smnb.BrowserMic\n"
        "assert callable(smnb.experiment.SweepResult.load)\n"
        "assert smnb.session.options.SessionOptions is smnb.SessionOptions\n"
        "assert smnb.recorder.sanitize.scrub_text('x') == 'x'\n"
        "for name in ('SweepResult', 'Microphone', 'BrowserMic', 'LiveTranscript', 'Reference',\n"
        "             'AudioSource', 'Result', 'Results', 'Transcription', 'SessionOptions'):\n"
        "    assert isinstance(getattr(smnb, name), type), name\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


# --- explicit, consistent settings ------------------------------------------------------


@pytest.mark.parametrize("name", ["transcribe", "atranscribe", "start", "live"])
def test_entry_points_take_explicit_keyword_only_settings(name: str) -> None:
    from smnb.session.options import KEYWORD_DEFAULTS

    params = inspect.signature(getattr(smnb, name)).parameters
    first, *rest = params.values()
    assert first.name == "source" and first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in rest)
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    settings = {p.name: p.default for p in rest if p.name in KEYWORD_DEFAULTS}
    assert settings == KEYWORD_DEFAULTS  # same names and defaults everywhere
    assert all(p.annotation is not inspect.Parameter.empty for p in rest)
    assert params["timeout"].default == 60.0  # documented; timeout=None means no timeout
    doc = inspect.getdoc(getattr(smnb, name)) or ""
    assert "transcribe" in doc or "timeout" in doc


def test_timeout_none_means_no_timeout() -> None:
    from smnb.session.options import SessionOptions

    assert SessionOptions.create().timeout == 60.0
    assert SessionOptions.create(timeout=None).timeout is None
    assert SessionOptions.create(timeout=5).replace(language="de").timeout == 5.0
    assert SessionOptions.create(timeout=None).replace(max_delay=2).timeout is None
