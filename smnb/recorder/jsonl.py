"""The one JSONL form of a session log (``messages.jsonl``): writing it, reading it back.

Every JSONL line smnb writes or reads passes through this module: the live
:class:`JsonlWriter` a session subscribes to its recorder, :func:`write_jsonl`
(``Result.to_csv``/``to_parquet``, sweep folders), :func:`to_text` (a session
log shipped from another process) and the readers :func:`read_jsonl` and
:func:`from_text`. One format, one scrubbing policy: our own messages, smnb's
notes and the server's free-text notices go through
:func:`smnb.recorder.sanitize.sanitize`; acknowledgements and transcripts (most
of the log, and unable to echo our credentials) are written as received.

Stdlib only.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from smnb.recorder.records import RECEIVED, Record, Recorder
from smnb.recorder.sanitize import sanitize

logger = logging.getLogger(__name__)

LOG_NAME = "messages.jsonl"
"""The file name of a session's log inside its directory."""

_BULK_SERVER_MESSAGES = frozenset(
    {"AudioAdded", "ChannelAudioAdded", "AddPartialTranscript", "AddTranscript"}
)

__all__ = [
    "LOG_NAME",
    "JsonlWriter",
    "from_line",
    "from_text",
    "read_jsonl",
    "scrubbed",
    "to_line",
    "to_text",
    "write_jsonl",
]


def to_line(record: Record) -> str:
    """One JSONL line (without the newline), exactly as given (see :func:`scrubbed`)."""
    obj: dict[str, Any] = {"i": record.i, "t": round(record.t, 6), "dir": record.direction}
    obj["type"] = record.type
    for key in ("seq_no", "nbytes", "channel"):
        value = getattr(record, key)
        if value is not None:
            obj[key] = value
    for key in ("audio_start", "audio_end", "scheduled_t"):
        value = getattr(record, key)
        if value is not None:
            obj[key] = round(value, 6)
    if record.payload is not None:
        obj["payload"] = record.payload
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def from_line(line: str) -> Record:
    """Parse one line written by :func:`to_line`.

    Raises:
        ValueError, KeyError, TypeError: the line is not a record.
    """
    obj = json.loads(line)
    return Record(
        i=int(obj["i"]),
        t=float(obj["t"]),
        direction=str(obj["dir"]),
        type=str(obj["type"]),
        payload=obj.get("payload"),
        seq_no=obj.get("seq_no"),
        nbytes=obj.get("nbytes"),
        audio_start=obj.get("audio_start"),
        audio_end=obj.get("audio_end"),
        scheduled_t=obj.get("scheduled_t"),
        channel=obj.get("channel"),
    )


def scrubbed(record: Record) -> Record:
    """``record`` as it may be written: credentials removed where they could appear."""
    if record.payload is None or (
        record.direction == RECEIVED and record.type in _BULK_SERVER_MESSAGES
    ):
        return record
    clean = sanitize(record.payload)
    return record if clean == record.payload else dataclasses.replace(record, payload=clean)


def to_text(records: Iterable[Record]) -> str:
    """The records as JSONL text (scrubbed), e.g. to ship a log between processes."""
    return "".join(to_line(scrubbed(r)) + "\n" for r in records)


def from_text(text: str, *, source: str = "text") -> Recorder:
    """A recorder rebuilt from JSONL text; blank lines and unreadable lines are skipped.

    A truncated last line (the process died mid-write) is the usual unreadable one;
    each skipped line is logged with ``source`` and its line number.
    """
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            records.append(from_line(line))
        except (ValueError, KeyError, TypeError):
            logger.warning("skipping unreadable line %d in %s", number, source)
    return Recorder.from_records(records)


def read_jsonl(path: str | Path) -> Recorder:
    """Rebuild a recorder from a ``messages.jsonl`` file (unreadable lines skipped)."""
    path = Path(path)
    return from_text(path.read_text(encoding="utf-8"), source=str(path))


def write_jsonl(records: Iterable[Record], path: str | Path) -> Path:
    """Write a whole log at once (scrubbed); the file appears complete or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(to_text(records), encoding="utf-8")
    os.replace(tmp, path)  # never leave a half-written log under the real name
    return path


class JsonlWriter:
    """A recorder subscriber that appends each record (scrubbed) to a JSONL file.

    Each line is flushed at once, so a crash or a dropped connection leaves
    everything received so far on disk.

    Raises:
        OSError: the file cannot be created.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = self.path.open("w", encoding="utf-8")

    def __call__(self, record: Record) -> None:
        if self._file is None:
            return
        self._file.write(to_line(scrubbed(record)) + "\n")
        self._file.flush()

    def write_all(self, records: Iterable[Record]) -> None:
        """Write records recorded before this writer subscribed."""
        for record in records:
            self(record)

    def close(self) -> None:
        """Close the file; later records are ignored."""
        if self._file is not None:
            self._file.close()
            self._file = None
