"""Session-level tables: every record, the audio frames, and the server's notes.

* :func:`messages` — one row per record, the raw log as a table.
* :func:`audio` — one row per audio frame with its schedule, send and ack times.
* :func:`events` — ``Info``, ``Warning``, ``Error`` and ``EndOfUtterance``.

Pure functions of the records. Imports pandas/numpy; never the transport.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from smnb.recorder import RECEIVED, SENT, Record
from smnb.tables.columns import (
    BOOL,
    CAT,
    FLOAT,
    INT,
    OBJECT,
    TEXT,
    Records,
    as_records,
    audio_origin,
    frame,
    integer,
    label,
    num,
    origin_or_nan,
    relative,
)
from smnb.tables.connections import connection_numbers, on_audio_clock

MESSAGES_SCHEMA = {
    "i": INT,
    "t": FLOAT,
    "elapsed_s": FLOAT,
    "direction": CAT,
    "type": CAT,
    "seq_no": INT,
    "nbytes": INT,
    "channel": CAT,
    "audio_start": FLOAT,
    "audio_end": FLOAT,
    "scheduled_t": FLOAT,
    "payload": OBJECT,
}

AUDIO_SCHEMA = {
    "connection": INT,
    "seq_no": INT,
    "channel": CAT,
    "nbytes": INT,
    "audio_start": FLOAT,
    "audio_end": FLOAT,
    "scheduled_s": FLOAT,
    "sent_s": FLOAT,
    "acked_s": FLOAT,
    "pacing_error_s": FLOAT,
    "resent": BOOL,
}

EVENTS_SCHEMA = {
    "message_i": INT,
    "received_s": FLOAT,
    "message": CAT,
    "type": CAT,
    "reason": TEXT,
    "code": INT,
    "channel": CAT,
    "start_time": FLOAT,
    "end_time": FLOAT,
    "payload": OBJECT,
}

EVENT_MESSAGES = frozenset({"Info", "Warning", "Error", "EndOfUtterance"})
ACK_MESSAGES = frozenset({"AudioAdded", "ChannelAudioAdded"})


def messages(records: Records) -> pd.DataFrame:
    """Every record as a row: ``i, t, elapsed_s (t − t0), direction, type, …, payload``.

    ``t`` and ``scheduled_t`` stay on the recorder's clock; ``elapsed_s`` is on the
    audio clock (NaN when no audio was sent).
    """
    recs = as_records(records)
    t0 = origin_or_nan(audio_origin(recs))
    t = [r.t for r in recs]
    data: dict[str, Any] = {
        "i": [r.i for r in recs],
        "t": t,
        "elapsed_s": relative(t, t0),
        "direction": [r.direction for r in recs],
        "type": [r.type for r in recs],
        "seq_no": [r.seq_no for r in recs],
        "nbytes": [r.nbytes for r in recs],
        "channel": [r.channel for r in recs],
        "audio_start": [r.audio_start for r in recs],
        "audio_end": [r.audio_end for r in recs],
        "scheduled_t": [r.scheduled_t for r in recs],
        "payload": [r.payload for r in recs],
    }
    return frame(data, MESSAGES_SCHEMA)


def audio(records: Records) -> pd.DataFrame:
    """One row per audio frame sent; times in seconds from ``t0``.

    ``acked_s`` is when the matching ``AudioAdded`` (or, per channel,
    ``ChannelAudioAdded``) arrived on the same connection, NaN if it never did.
    ``pacing_error_s`` is ``sent_s − scheduled_s``: how late the frame left against
    its deadline. After a reconnection, ``connection`` numbers the frames of each
    connection and ``resent`` marks audio sent again because no final covered it yet.
    """
    recs = as_records(records)
    t0 = origin_or_nan(audio_origin(recs))
    numbers = connection_numbers(recs)
    acks: dict[tuple[int, str | None, int], float] = {}
    frames: list[tuple[int, Record]] = []
    for k, r in zip(numbers, recs, strict=True):
        if r.direction == RECEIVED and r.type in ACK_MESSAGES and r.seq_no is not None:
            acks.setdefault((k, r.channel, r.seq_no), r.t)  # a repeated ack keeps the first
        elif r.direction == SENT and r.audio_end is not None:
            frames.append((k, r))
    sent = relative([r.t for _, r in frames], t0)
    scheduled = relative([_or_nan(r.scheduled_t) for _, r in frames], t0)
    acked = [
        acks.get((k, r.channel, r.seq_no)) if r.seq_no is not None else None for k, r in frames
    ]
    reached: dict[str | None, float] = {}
    resent = []
    for _, r in frames:  # audio already sent on an earlier connection goes out again
        assert r.audio_end is not None
        resent.append(r.audio_end <= reached.get(r.channel, -1.0))
        reached[r.channel] = max(reached.get(r.channel, -1.0), r.audio_end)
    data: dict[str, Any] = {
        "connection": [k for k, _ in frames],
        "seq_no": [r.seq_no for _, r in frames],
        "channel": [r.channel for _, r in frames],
        "nbytes": [r.nbytes for _, r in frames],
        "audio_start": [r.audio_start for _, r in frames],
        "audio_end": [r.audio_end for _, r in frames],
        "scheduled_s": scheduled,
        "sent_s": sent,
        "acked_s": relative([_or_nan(a) for a in acked], t0),
        "pacing_error_s": sent - scheduled,
        "resent": resent,
    }
    return frame(data, AUDIO_SCHEMA)


def events(records: Records) -> pd.DataFrame:
    """``Info``/``Warning``/``Error``/``EndOfUtterance`` messages, in arrival order.

    ``type``, ``reason`` and ``code`` come from Info/Warning/Error; ``start_time``
    and ``end_time`` from an ``EndOfUtterance``'s metadata; ``channel`` from the
    message root (multichannel).
    """
    recs = on_audio_clock(as_records(records))  # one audio clock across reconnections
    t0 = origin_or_nan(audio_origin(recs))
    cols: dict[str, list[Any]] = {name: [] for name in EVENTS_SCHEMA}
    times: list[float] = []
    for r in recs:
        if r.direction != RECEIVED or r.type not in EVENT_MESSAGES:
            continue
        payload = r.payload or {}
        meta = payload.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        times.append(r.t)
        cols["message_i"].append(r.i)
        cols["message"].append(r.type)
        cols["type"].append(label(payload.get("type")))
        cols["reason"].append(label(payload.get("reason")))
        cols["code"].append(integer(payload.get("code")))
        cols["channel"].append(label(payload.get("channel")))
        cols["start_time"].append(num(meta.get("start_time")))
        cols["end_time"].append(num(meta.get("end_time")))
        cols["payload"].append(r.payload)
    data: dict[str, Any] = {**cols, "received_s": relative(times, t0)}
    return frame(data, EVENTS_SCHEMA)


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value
