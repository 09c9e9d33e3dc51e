"""What running one sweep session produced, in a form that crosses process boundaries.

A :class:`SessionOutcome` carries the spec, ``ok``/``failed``, the error text, and the
session's log either as an in-process :class:`~smnb.result.Result` (``result``) or as
JSONL text (``records_jsonl``, for sessions run in another process or on another
machine: a Result holds a lock and does not pickle). :func:`result_of` turns either
into a Result.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smnb.experiment.plan import SessionSpec
from smnb.recorder import LOG_NAME, Recorder, jsonl

OK = "ok"
FAILED = "failed"
WARMUP = "warmup"


@dataclass
class SessionOutcome:
    """The result of one session run (successful or not)."""

    spec: SessionSpec
    status: str
    error: str | None = None
    result: Any = None
    """An in-process :class:`smnb.result.Result`, or None."""
    records_jsonl: str | None = None
    """The session's ``messages.jsonl`` text, for outcomes from other processes."""

    def __getstate__(self) -> dict[str, Any]:
        # A Result is process-local; ship its log as text instead.
        state = dict(self.__dict__)
        if state.get("result") is not None and state.get("records_jsonl") is None:
            state["records_jsonl"] = jsonl_text(state["result"].recorder)
        state["result"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def jsonl_text(recorder: Recorder) -> str:
    """The recorder's records as JSONL text (scrubbed, :func:`smnb.recorder.jsonl.to_text`)."""
    return jsonl.to_text(recorder.snapshot())


def recorder_from_text(text: str) -> Recorder:
    """A recorder rebuilt from JSONL text (blank or unreadable lines skipped)."""
    return jsonl.from_text(text, source="a session outcome")


def result_of(outcome: SessionOutcome) -> Any:
    """The outcome's Result: in memory, from its JSONL text, or from ``out_dir`` on disk."""
    from smnb.result import Result, load_file

    if outcome.result is not None:
        return outcome.result
    if outcome.records_jsonl is not None:
        return Result(recorder_from_text(outcome.records_jsonl), live=False)
    if outcome.spec.out_dir is not None:
        log = Path(outcome.spec.out_dir) / LOG_NAME
        if log.is_file():
            return load_file(log)
    return None
