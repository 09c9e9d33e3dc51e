"""Shared pieces of the result tests: the table names and Results loaded from fixtures."""

from __future__ import annotations

from pathlib import Path

from smnb.result import Result
from smnb.result.load import load
from tests.support.table_sessions import fixture

TABLES = [
    "messages",
    "words",
    "partials",
    "transcripts",
    "utterances",
    "events",
    "audio",
    "connections",
]
EXPORTED = ["words", "partials", "transcripts", "utterances", "events", "audio", "connections"]


def loaded(name: str) -> Result:
    """The fixture session ``name`` loaded from its messages.jsonl."""
    result = load(fixture(name))
    assert isinstance(result, Result)
    return result


def loaded_from(path: Path) -> Result:
    """The one session at ``path`` (a file or a session directory)."""
    result = load(path)
    assert isinstance(result, Result)
    return result
