"""Rebuild Results from recorded ``messages.jsonl`` files.

The JSONL log is the durable artefact of a session: :func:`load` turns it
back into a :class:`~smnb.result.Result` whose tables, text, summary and
error are rebuilt from the log alone.

Imports pandas (through Result); never the transport.
"""

from __future__ import annotations

from pathlib import Path

from smnb.recorder import read_jsonl
from smnb.result import Result

LOG_NAME = "messages.jsonl"


def load(path: str | Path) -> Result | list[Result]:
    """Load one session, or every session under a sweep directory.

    Args:
        path: a ``messages.jsonl`` file (any name ending ``.jsonl`` works); a
            session directory containing ``messages.jsonl``; or a directory whose
            subdirectories (at any depth) contain one each.

    Returns:
        One :class:`Result` for a file or session directory; for a sweep
        directory a list of Results, ordered by their directory paths.

    Raises:
        FileNotFoundError: nothing to load at ``path``.
    """
    path = Path(path)
    if path.is_file():
        return load_file(path)
    if not path.is_dir():
        raise FileNotFoundError(f"no such file or directory: {path}")
    if (path / LOG_NAME).is_file():
        return load_file(path / LOG_NAME)
    logs = sorted(path.rglob(LOG_NAME), key=lambda p: p.parent.relative_to(path).parts)
    if not logs:
        raise FileNotFoundError(f"no {LOG_NAME} in {path} or its subdirectories")
    return [load_file(log) for log in logs]


def load_file(path: str | Path) -> Result:
    """One Result from one JSONL log (a truncated last line is skipped)."""
    path = Path(path)
    return Result(read_jsonl(path), jsonl_path=path, live=False)
