"""Reusing a finished sweep: ``asweep(..., out=DIR, reuse=True)``.

A sweep's *plan digest* fingerprints everything that decides its sessions and its
analysis: each session's file (by SHA-256 of its bytes, not its path), setting, repeat,
position and pace; the references; the concurrency, warm-up, seeds and bootstrap size;
the endpoint kind (an explicit URL, the SaaS or the embedded local server); and smnb's
version. It is written to the manifest. With ``reuse=True``, a directory whose manifest
holds the same digest and every session's log is read back (:meth:`SweepResult.load`,
which recomputes every metric from the logs) instead of being measured again; anything
else is measured afresh. So a notebook can be re-run, or one section run on its own, without
streaming the audio again, and a changed file, reference or setting is never served stale.

A sweep about to measure claims its directory first (:func:`claim`): ``out/sessions``
already holding sessions is refused unless ``reuse=True``, which replaces the earlier
sweep there (only the session folders that sweep listed, and this sweep's own). So a
directory never holds the sessions of two sweeps.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from smnb._version import __version__
from smnb.exceptions import ConfigError
from smnb.experiment.plan import SessionSpec, sha256
from smnb.experiment.result import SweepResult, listed_sessions
from smnb.metrics.reference import Reference


def plan_digest(
    specs: Sequence[SessionSpec],
    references: Mapping[str, Reference | None],
    **settings: Any,
) -> str:
    """The hex SHA-256 of the plan (see the module docstring); ``settings`` are JSON-able."""
    files = {s.label: s.file for s in specs}
    audio = {label: sha256(path) for label, path in files.items()}
    refs = {}
    for label, ref in sorted(references.items()):
        refs[label] = (
            None if ref is None else {"text": ref.text, "timings": ref.to_json()["timings"]}
        )
    plan = {
        "sessions": [[s.order, s.label, s.repeat, s.settings, s.config, s.pace] for s in specs],
        "audio": audio,
        "references": refs,
        "settings": dict(settings),
        "smnb": __version__,
    }
    text = json.dumps(plan, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reusable(out: str | Path, digest: str, specs: Sequence[SessionSpec]) -> SweepResult | None:
    """The sweep saved in ``out`` if it is this plan's, complete; None otherwise."""
    out = Path(out)
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("plan_digest") != digest:
        return None
    for spec in specs:
        folder = out / "sessions" / spec.session_id
        if not (folder / "spec.json").is_file() or not (folder / "messages.jsonl").is_file():
            return None
    try:
        result = SweepResult.load(out)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # damaged: measure again rather than fail
    result.reused_from = out
    return result


def claim(out: str | Path, session_ids: Sequence[str], *, reuse: bool) -> None:
    """Make ``out`` ready for a sweep that writes ``session_ids``: refuse or clear old ones.

    Raises:
        ConfigError: ``out/sessions`` is not empty and ``reuse`` is False.
    """
    out = Path(out)
    sessions = out / "sessions"
    if not sessions.is_dir() or not any(sessions.iterdir()):
        return
    if not reuse:
        raise ConfigError(
            f"out: {out} already holds the sessions of an earlier sweep; choose an empty "
            "directory, or reuse it (reuse=True, smnb sweep --reuse: read back when the plan "
            "is the same, else measured afresh, replacing that sweep)"
        )
    owned = {*(listed_sessions(out) or []), *session_ids}
    for sid in sorted(owned):
        folder = sessions / sid
        if folder.parent == sessions and folder.is_dir():  # never outside out/sessions
            shutil.rmtree(folder)
    # Until this sweep saves its own, the directory describes no sweep.
    (out / "manifest.json").unlink(missing_ok=True)
