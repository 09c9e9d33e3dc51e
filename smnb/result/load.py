"""Rebuild Results from recorded ``messages.jsonl`` files.

The JSONL log is the durable artefact of a session: :func:`load` turns it
back into a :class:`~smnb.result.Result` whose tables, text, summary and
error are rebuilt from the log alone. The return type follows the input kind:

========================================  ===========================================
``path`` is                               ``load(path)`` returns
========================================  ===========================================
a ``.jsonl`` file                         :class:`Result`
a session directory (has messages.jsonl)  :class:`Result`
a directory of session directories        :class:`Results` (a list of Result, sorted
(a sweep, at any depth)                   by directory path, with ``.paths``)
========================================  ===========================================

Typed code that wants one type whatever the input uses :func:`load_file` (always one
Result) or :func:`load_all` (always :class:`Results`). A sweep with its references and
metrics is :meth:`smnb.experiment.SweepResult.load`.

Imports pandas (through Result); never the transport.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from smnb.exceptions import LogNotFound
from smnb.recorder import LOG_NAME, Recorder, read_jsonl
from smnb.recorder.saas import read_saas_lines, sniff
from smnb.result.result import Result

__all__ = ["Results", "load", "load_all", "load_file"]


class Results(list[Result]):
    """The sessions of a directory, in path order; ``paths[i]`` is ``self[i]``'s log."""

    def __init__(self, results: Iterable[Result] = (), paths: Iterable[Path] = ()) -> None:
        super().__init__(results)
        self.paths: list[Path] = list(paths)

    def __repr__(self) -> str:
        states = ", ".join(r.state for r in self)
        return f"<Results: {len(self)} sessions ({states})>"


def load(path: str | Path) -> Result | Results:
    """Load one session, or every session under a directory of sessions.

    Args:
        path: a ``messages.jsonl`` file (any name ending ``.jsonl`` works); a
            session directory containing ``messages.jsonl``; or a directory whose
            subdirectories (at any depth) contain one each.

    Returns:
        One :class:`Result` for a file or a session directory; :class:`Results`
        (a list of Result ordered by directory path) for a directory of sessions.

    Raises:
        LogNotFound: nothing to load at ``path`` (a FileNotFoundError too).
        LogError: the file is not a log (not UTF-8 text, or its first line not a record).
    """
    path = Path(path)
    if path.is_file():
        return load_file(path)
    if not path.is_dir():
        raise LogNotFound(f"nothing to load: no such file or directory: {path}")
    if (path / LOG_NAME).is_file():
        return load_file(path / LOG_NAME)
    return load_all(path)


def load_all(path: str | Path) -> Results:
    """Every session at or under ``path`` as :class:`Results` (one item for one session).

    Raises:
        LogNotFound: no ``messages.jsonl`` at or under ``path``.
        LogError: one of them is not a log.
    """
    path = Path(path)
    if path.is_file():
        return Results([load_file(path)], [path])
    if (path / LOG_NAME).is_file():
        logs = [path / LOG_NAME]
    else:
        logs = sorted(path.rglob(LOG_NAME), key=lambda p: p.parent.relative_to(path).parts)
    if not logs:
        if not path.exists():
            raise LogNotFound(f"nothing to load: no such file or directory: {path}")
        raise LogNotFound(f"nothing to load: no {LOG_NAME} in {path} or its subdirectories")
    return Results((load_file(log) for log in logs), logs)


def load_file(path: str | Path) -> Result:
    """One Result from one JSONL log (a truncated last line is skipped).

    A log in the SaaS line format (``ts``, ``audio_ts``, ``payload``) is read
    too: see :mod:`smnb.recorder.saas` for how its lines become records.

    Raises:
        LogNotFound: no file at ``path``.
        LogError: the file is not a log (not UTF-8 text, or its first line not a record).
    """
    path = Path(path)
    if sniff(path) == "saas":  # exported again as smnb's own messages.jsonl
        return Result(Recorder.from_records(read_saas_lines(path)), live=False)
    return Result(read_jsonl(path), jsonl_path=path, live=False)
