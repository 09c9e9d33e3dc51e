"""Recordings in the SaaS line format, read as smnb records.

Speechmatics' SDK test assets record RT sessions one JSON object per line:
``{"ts": wall seconds since the client started, "audio_ts": seconds of audio
sent when the line was written, "payload": a message}``. :func:`saas_records`
turns such lines into the :class:`~smnb.recorder.Record` list smnb's own
``messages.jsonl`` would hold, so every table, metric and the replay server
read them unchanged:

* RT server messages (``Info``, ``RecognitionStarted``, ``AddTranscript`` …)
  become received records.
* Everything else was written by the SDK's voice layer on the client side
  (``AudioFile``, ``TranscriptionConfig``, ``AudioFormat``, ``AddSegment``,
  ``SpeakerStarted``, ``EndOfTurn`` …): kept as ``meta`` records under their
  own message name. They show in ``messages``, never in ``events`` or the
  transcript tables, because the service did not send them.
* The ``StartRecognition`` the SDK sent is rebuilt from the recorded
  ``TranscriptionConfig`` (unset fields dropped) and ``AudioFormat``.
* Records sit on the recording's audio clock: ``t = audio_ts``. Audio frames
  are rebuilt from the steps of ``audio_ts`` (the recording says how much
  audio had been sent at each line, not how it was cut into frames: one
  rebuilt frame covers the audio sent since the previous line), with
  ``scheduled_t = t = audio_end``, so ``t0 = 0`` and a word's latency is
  ``audio_ts − end_time``, the recording's own measure. The wall clock lead of
  ``ts`` over ``audio_ts`` goes into the ``Session`` note.

Stdlib only.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from smnb.protocol.messages import Message, ServerMessage
from smnb.recorder.jsonl import log_lines, not_a_log
from smnb.recorder.records import META, RECEIVED, SENT, Record

logger = logging.getLogger(__name__)

SERVER_MESSAGES = frozenset(m.value for m in ServerMessage)
SAAS_FORMAT = "saas-lines"
"""``format`` of the ``Session`` note of a recording read from SaaS lines."""


def is_saas_line(obj: Any) -> bool:
    """Whether a parsed JSON line is in the SaaS line format (not an smnb record)."""
    return (
        isinstance(obj, dict)
        and isinstance(obj.get("payload"), dict)
        and "audio_ts" in obj
        and "dir" not in obj
    )


def sniff(path: str | Path) -> str:
    """``"saas"`` or ``"smnb"``: the format of a JSONL log, from its first line.

    An empty file is an (empty) smnb log.

    Raises:
        LogNotFound: no file at ``path``.
        LogError: not a log: not UTF-8 text, or its first line is not a JSON object.
    """
    for _, line in log_lines(path):
        try:
            obj = json.loads(line) if line is not None else None
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            raise not_a_log(str(path), line)
        return "saas" if is_saas_line(obj) else "smnb"
    return "smnb"


def read_saas_lines(path: str | Path) -> list[Record]:
    """Records from a SaaS-format file (unreadable lines are skipped with a warning)."""
    lines: list[dict[str, Any]] = []
    for n, line in log_lines(path):
        try:
            obj = json.loads(line) if line is not None else None
        except ValueError:
            obj = None
        if obj is None:
            logger.warning("skipping unreadable line %d in %s", n, path)
        elif is_saas_line(obj):
            lines.append(obj)
        else:
            logger.warning("skipping line %d in %s: not a SaaS-format line", n, path)
    return saas_records(lines, source=Path(path).name)


def saas_records(lines: Iterable[dict[str, Any]], *, source: str = "") -> list[Record]:
    """The records of a recording given as parsed SaaS-format lines."""
    lines = [obj for obj in lines if is_saas_line(obj)]
    out: list[Record] = []

    def add(record: Record) -> None:
        record.i = len(out)
        out.append(record)

    leads = [float(o["ts"]) - float(o["audio_ts"]) for o in lines if _seconds(o) > 0]
    note: Message = {"source": source, "format": SAAS_FORMAT, "pace": "realtime"}
    if leads:
        note["wall_clock_lead_s"] = round(statistics.median(leads), 6)
    add(Record(0, 0.0, META, "Session", note))

    config: Message | None = None
    audio_format: Message | None = None
    started = False
    sent = 0.0  # audio seconds covered by rebuilt frames so far
    for obj in lines:
        payload: Message = obj["payload"]
        kind = str(payload.get("message", ""))
        at = _seconds(obj)
        if kind in SERVER_MESSAGES and not started and config is not None:
            add(_start(out[-1].t, config, audio_format))
            started = True
        if at > sent:
            add(_frame(sent, at))
            sent = at
        if kind in SERVER_MESSAGES:
            add(_received(payload, at))
            continue
        add(Record(0, at, META, kind or "Unknown", payload))
        if kind == "TranscriptionConfig":
            config = {k: v for k, v in payload.items() if k != "message" and v is not None}
        elif kind == "AudioFormat":
            audio_format = _audio_format(payload)
        if not started and config is not None and audio_format is not None:
            add(_start(at, config, audio_format))
            started = True
    return out


def _seconds(obj: dict[str, Any]) -> float:
    value = obj.get("audio_ts")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _audio_format(payload: Message) -> Message:
    out: Message = {"type": "raw"}
    for key in ("encoding", "sample_rate"):
        if payload.get(key) is not None:
            out[key] = payload[key]
    return out


def _start(t: float, config: Message, audio_format: Message | None) -> Record:
    msg: Message = {
        "message": "StartRecognition",
        "audio_format": audio_format or {"type": "raw"},
        "transcription_config": config,
    }
    return Record(0, t, SENT, "StartRecognition", msg)


def _frame(start: float, end: float) -> Record:
    """A rebuilt frame: the audio sent since the previous line (its size is not recorded)."""
    return Record(0, end, SENT, "AddAudio", None, audio_start=start, audio_end=end, scheduled_t=end)


def _received(payload: Message, t: float) -> Record:
    seq = payload.get("seq_no") if isinstance(payload.get("seq_no"), int) else None
    channel = payload.get("channel") if isinstance(payload.get("channel"), str) else None
    return Record(0, t, RECEIVED, str(payload["message"]), payload, seq_no=seq, channel=channel)
