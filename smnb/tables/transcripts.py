"""Transcript tables: final words, partial words, and one row per transcript message.

* :func:`words` — every result item of every ``AddTranscript`` (words,
  punctuation, entities), with its arrival time and latency.
* :func:`partials` — every result item of every ``AddPartialTranscript``.
* :func:`transcripts` — one row per transcript message, empty ones included.

Time: ``received_s = t − t0`` (audio clock) and ``latency_s = received_s − end_time``
(NaN when the audio went faster than real time: see :func:`~smnb.tables.columns.is_timed`).
Channel comes from the message root, or for older servers from ``results[].channel``;
speaker and confidence from ``alternatives[0]``.

Pure functions of the records. Imports pandas/numpy; never the transport.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from smnb.protocol.messages import Message
from smnb.protocol.text import content_of, first_alternative
from smnb.recorder import RECEIVED, Record
from smnb.tables.columns import (
    BOOL,
    CAT,
    FLOAT,
    INT,
    TEXT,
    Records,
    as_records,
    audio_origin,
    flag,
    frame,
    is_timed,
    label,
    num,
    origin_or_nan,
    relative,
)
from smnb.tables.connections import on_audio_clock

FINAL = "AddTranscript"
PARTIAL = "AddPartialTranscript"

_ITEM_SCHEMA = {
    "content": TEXT,
    "type": CAT,
    "start_time": FLOAT,
    "end_time": FLOAT,
    "confidence": FLOAT,
    "speaker": CAT,
    "channel": CAT,
    "is_eos": BOOL,
    "attaches_to": CAT,
    "received_s": FLOAT,
    "latency_s": FLOAT,
    "message_i": INT,
}
WORDS_SCHEMA = dict(_ITEM_SCHEMA)
PARTIALS_SCHEMA = {"partial_i": INT, "position": INT, **_ITEM_SCHEMA}
TRANSCRIPTS_SCHEMA = {
    "message_i": INT,
    "kind": CAT,
    "received_s": FLOAT,
    "start_time": FLOAT,
    "end_time": FLOAT,
    "transcript": TEXT,
    "n_results": INT,
    "channel": CAT,
    "forced": BOOL,
}


def result_channel(payload: Message, result: Message) -> str | None:
    """The channel at the message root, else the older per-result field."""
    return label(payload.get("channel")) or label(result.get("channel"))


def transcript_records(recs: list[Record], kind: str) -> list[Record]:
    """Received transcript messages of one kind, in arrival order."""
    return [
        r
        for r in recs
        if r.direction == RECEIVED and r.type == kind and isinstance(r.payload, dict)
    ]


def results_of(payload: Message) -> list[Message]:
    """The result items of a transcript message (malformed items skipped)."""
    results = payload.get("results")
    if not isinstance(results, list):
        return []
    return [r for r in results if isinstance(r, dict)]


def _items(recs: list[Record], kind: str, t0: float, *, timed: bool = True) -> dict[str, Any]:
    """Columns of one row per result item of every ``kind`` message."""
    names = ["partial_i", "position", *_ITEM_SCHEMA]
    cols: dict[str, list[Any]] = {name: [] for name in names}
    times: list[float] = []
    for ordinal, rec in enumerate(transcript_records(recs, kind)):
        payload = rec.payload or {}
        for position, res in enumerate(results_of(payload)):
            alt = first_alternative(res)
            times.append(rec.t)
            cols["partial_i"].append(ordinal)
            cols["position"].append(position)
            cols["content"].append(content_of(res))
            cols["type"].append(label(res.get("type")))
            cols["start_time"].append(num(res.get("start_time")))
            cols["end_time"].append(num(res.get("end_time")))
            cols["confidence"].append(num(alt.get("confidence")))
            cols["speaker"].append(label(alt.get("speaker")))
            cols["channel"].append(result_channel(payload, res))
            cols["is_eos"].append(flag(res.get("is_eos")))
            cols["attaches_to"].append(label(res.get("attaches_to")))
            cols["message_i"].append(rec.i)
    received = relative(times, t0)
    cols_out: dict[str, Any] = dict(cols)
    cols_out["received_s"] = received
    latency = received - relative(cols["end_time"], 0.0)
    cols_out["latency_s"] = latency if timed else np.full_like(latency, np.nan)
    return cols_out


def words(records: Records) -> pd.DataFrame:
    """Final results, one row per item: words, punctuation and entities.

    Columns: ``content, type, start_time, end_time, confidence, speaker, channel,
    is_eos, attaches_to, received_s, latency_s, message_i``.
    """
    recs = on_audio_clock(as_records(records))  # one audio clock across reconnections
    t0 = origin_or_nan(audio_origin(recs))
    return frame(_items(recs, FINAL, t0, timed=is_timed(recs)), WORDS_SCHEMA)


def partials(records: Records) -> pd.DataFrame:
    """Partial results, one row per item of every ``AddPartialTranscript``.

    ``partial_i`` numbers the partial messages from 0 (empty ones too, so it
    matches the order of partial rows in :func:`transcripts`); ``position`` is
    the item's index within its partial.
    """
    recs = on_audio_clock(as_records(records))  # one audio clock across reconnections
    t0 = origin_or_nan(audio_origin(recs))
    return frame(_items(recs, PARTIAL, t0, timed=is_timed(recs)), PARTIALS_SCHEMA)


def transcripts(records: Records) -> pd.DataFrame:
    """One row per ``AddPartialTranscript``/``AddTranscript``, empty ones included.

    ``start_time``/``end_time``/``transcript`` are the message's ``metadata``;
    ``kind`` is ``partial`` or ``final``; ``forced`` marks replies to
    ``ForceEndOfUtterance``.
    """
    recs = on_audio_clock(as_records(records))  # one audio clock across reconnections
    t0 = origin_or_nan(audio_origin(recs))
    cols: dict[str, list[Any]] = {name: [] for name in TRANSCRIPTS_SCHEMA}
    times: list[float] = []
    kinds = {PARTIAL: "partial", FINAL: "final"}
    for rec in recs:
        if rec.direction != RECEIVED or rec.type not in kinds or not isinstance(rec.payload, dict):
            continue
        payload = rec.payload
        meta = payload.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        results = results_of(payload)
        channel = label(payload.get("channel"))
        if channel is None and results:
            channel = label(results[0].get("channel"))
        times.append(rec.t)
        cols["message_i"].append(rec.i)
        cols["kind"].append(kinds[rec.type])
        cols["start_time"].append(num(meta.get("start_time")))
        cols["end_time"].append(num(meta.get("end_time")))
        cols["transcript"].append(label(meta.get("transcript")))
        cols["n_results"].append(len(results))
        cols["channel"].append(channel)
        cols["forced"].append(payload.get("forced") is True)
    data: dict[str, Any] = {**cols, "received_s": relative(times, t0)}
    return frame(data, TRANSCRIPTS_SCHEMA)
