"""The recorder: the append-only log of one session, its JSONL form, and the scrubber.

- :mod:`~smnb.recorder.records`: :class:`Recorder` and :class:`Record` (the hot path:
  one small slotted object per message, subscribers called after each append);
- :mod:`~smnb.recorder.jsonl`: the only JSONL reader/writer (``messages.jsonl``);
- :mod:`~smnb.recorder.sanitize`: the only credential scrubber (URLs, text, values, logs).
- :mod:`~smnb.recorder.saas`: recordings in the SaaS line format (``ts``, ``audio_ts``,
  ``payload``) read as records.

May import: the standard library, :mod:`smnb.clock`, :mod:`smnb.protocol.messages`.
Nothing else (an import-linter contract in ``pyproject.toml``).
"""

from smnb.recorder.jsonl import LOG_NAME, JsonlWriter, read_jsonl, write_jsonl
from smnb.recorder.records import (
    META,
    OUTCOME,
    PROBLEM,
    RECEIVED,
    RECONNECT,
    SENT,
    Record,
    Recorder,
    Subscriber,
)

__all__ = [
    "LOG_NAME",
    "META",
    "OUTCOME",
    "PROBLEM",
    "RECEIVED",
    "RECONNECT",
    "SENT",
    "JsonlWriter",
    "Record",
    "Recorder",
    "Subscriber",
    "read_jsonl",
    "write_jsonl",
]
