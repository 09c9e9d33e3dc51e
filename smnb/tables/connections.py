"""Sessions that moved to a new connection: one audio clock, and the pieces and gaps.

After a dropped connection the transport starts a new recognition and records a
``Reconnect`` note whose ``audio_offset`` says where the new session's audio clock
starts on the original one (the new server counts from 0 again). The log keeps what
each server sent; the tables put everything on the original clock:

* :func:`on_audio_clock` — the records with every server time (``start_time`` /
  ``end_time`` anywhere in a received payload) after a ``Reconnect`` note moved by its
  offset; the transcript, utterance and event tables read these.
* :func:`connection_numbers` — which connection each record belongs to (a connection
  begins with its ``StartRecognition``); the audio table matches acks per connection.
* :func:`connections` — one row per connection: its session id, when it started and
  closed, the gap before it, the audio offset, frames sent and re-sent.

Pure functions of the records. Imports pandas; never the transport.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from smnb.recorder import META, RECEIVED, RECONNECT, SENT, Record
from smnb.tables.columns import (
    FLOAT,
    INT,
    TEXT,
    Records,
    as_records,
    audio_origin,
    frame,
    integer,
    label,
    num,
    origin_or_nan,
)

CONNECTIONS_SCHEMA = {
    "connection": INT,
    "session_id": TEXT,
    "started_s": FLOAT,
    "closed_s": FLOAT,
    "close_code": INT,
    "close_reason": TEXT,
    "gap_s": FLOAT,
    "audio_offset": FLOAT,
    "audio_start": FLOAT,
    "audio_end": FLOAT,
    "frames": INT,
    "resent_frames": INT,
    "finals": INT,
    "attempts": INT,
}

_TIME_KEYS = ("start_time", "end_time")

__all__ = ["CONNECTIONS_SCHEMA", "connection_numbers", "connections", "on_audio_clock"]


def on_audio_clock(recs: list[Record]) -> list[Record]:
    """``recs`` with each reconnected session's server times moved onto the original clock.

    Records are copied only where a time changes; a session that never reconnected
    is returned as it is.
    """
    if not any(r.direction == META and r.type == RECONNECT for r in recs):
        return recs
    out: list[Record] = []
    offset = 0.0
    for rec in recs:
        if rec.direction == META and rec.type == RECONNECT and isinstance(rec.payload, dict):
            offset = num(rec.payload.get("audio_offset")) or 0.0
        elif offset and rec.direction == RECEIVED and isinstance(rec.payload, dict):
            rec = dataclasses.replace(rec, payload=_shifted(rec.payload, offset))
        out.append(rec)
    return out


def _shifted(value: Any, offset: float) -> Any:
    if isinstance(value, dict):
        return {
            k: (v + offset if k in _TIME_KEYS and num(v) is not None else _shifted(v, offset))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_shifted(v, offset) for v in value]
    return value


def connection_numbers(recs: list[Record]) -> list[int]:
    """The connection (0, 1, …) of every record; notes before the first connection get 0."""
    return [max(k, 0) for k in _numbers(recs)]


def _numbers(recs: list[Record]) -> list[int]:
    numbers, current = [], -1
    for rec in recs:
        if rec.direction == SENT and rec.type == "StartRecognition":
            current += 1
        numbers.append(current)
    return numbers


def connections(records: Records) -> pd.DataFrame:
    """One row per connection of the session, times in seconds on the audio clock.

    Columns: ``connection, session_id, started_s`` (its ``RecognitionStarted``),
    ``closed_s, close_code, close_reason, gap_s`` (from the drop before it to its
    start; NaN for the first), ``audio_offset`` (where its server times start on the
    original audio clock), ``audio_start, audio_end`` (the audio it was sent),
    ``frames, resent_frames`` (sent on it; re-sent from before the drop), ``finals``,
    ``attempts`` (connection attempts it took).
    """
    recs = as_records(records)
    t0 = origin_or_nan(audio_origin(recs))
    rows: dict[int, dict[str, Any]] = {}
    for rec, k in zip(recs, _numbers(recs), strict=True):
        if k < 0:
            continue  # the Session note, or a failure before any connection
        row = rows.setdefault(k, _empty_row(k))
        payload = rec.payload if isinstance(rec.payload, dict) else {}
        if rec.direction == RECEIVED and rec.type == "RecognitionStarted":
            row["session_id"] = label(payload.get("id"))
            row["started_s"] = rec.t - t0
        elif rec.direction == RECEIVED and rec.type == "AddTranscript":
            row["finals"] += 1
        elif rec.direction == SENT and rec.audio_end is not None:
            row["frames"] += 1
            start = rec.audio_start if rec.audio_start is not None else rec.audio_end
            if row["audio_start"] is None or start < row["audio_start"]:
                row["audio_start"] = start
            if row["audio_end"] is None or rec.audio_end > row["audio_end"]:
                row["audio_end"] = rec.audio_end
        elif rec.direction == META and rec.type == "Closed":
            row["closed_s"] = rec.t - t0
            row["close_code"] = integer(payload.get("code"))
            row["close_reason"] = label(payload.get("reason"))
        elif rec.direction == META and rec.type == RECONNECT:
            row["gap_s"] = num(payload.get("gap_s"))
            row["audio_offset"] = num(payload.get("audio_offset")) or 0.0
            row["resent_frames"] = integer(payload.get("resent_frames"))
            row["attempts"] = integer(payload.get("attempts"))
    ordered = [rows[k] for k in sorted(rows)]
    data = {name: [row[name] for row in ordered] for name in CONNECTIONS_SCHEMA}
    return frame(data, CONNECTIONS_SCHEMA)


def _empty_row(k: int) -> dict[str, Any]:
    return {
        "connection": k,
        "session_id": None,
        "started_s": None,
        "closed_s": None,
        "close_code": None,
        "close_reason": None,
        "gap_s": None,
        "audio_offset": 0.0,
        "audio_start": None,
        "audio_end": None,
        "frames": 0,
        "resent_frames": 0 if k == 0 else None,
        "finals": 0,
        "attempts": 1 if k == 0 else None,
    }
