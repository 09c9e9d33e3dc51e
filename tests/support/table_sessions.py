"""Helpers for table/result tests: result items, transcript messages, fixture paths.

Sessions are recorded through a real :class:`~smnb.recorder.Recorder` on a
:class:`~smnb.clock.ManualClock`; times are chosen as binary fractions
(multiples of 1/64) so that hand-computed latencies are exact in float64.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smnb.clock import ManualClock
from smnb.recorder import Record, Recorder

FIXTURES = Path(__file__).parents[1] / "fixtures"


def fixture(name: str) -> Path:
    """Path of ``tests/fixtures/<name>/messages.jsonl``."""
    return FIXTURES / name / "messages.jsonl"


def word(
    content: str,
    start: float,
    end: float,
    *,
    confidence: float = 1.0,
    speaker: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    alt: dict[str, Any] = {"content": content, "confidence": confidence, "language": "en"}
    if speaker is not None:
        alt["speaker"] = speaker
    item: dict[str, Any] = {
        "type": "word",
        "start_time": start,
        "end_time": end,
        "alternatives": [alt],
    }
    if channel is not None:
        item["channel"] = channel
    return item


def punct(
    mark: str,
    at: float,
    *,
    eos: bool = True,
    attaches: str | None = "previous",
    speaker: str | None = None,
) -> dict[str, Any]:
    alt: dict[str, Any] = {"content": mark, "confidence": 1.0, "language": "en"}
    if speaker is not None:
        alt["speaker"] = speaker
    item: dict[str, Any] = {
        "type": "punctuation",
        "start_time": at,
        "end_time": at,
        "is_eos": eos,
        "alternatives": [alt],
    }
    if attaches is not None:
        item["attaches_to"] = attaches
    return item


def transcript(
    kind: str,
    start: float,
    end: float,
    results: list[dict[str, Any]],
    *,
    text: str = "",
    channel: str | None = None,
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "message": "AddTranscript" if kind == "final" else "AddPartialTranscript",
        "format": "2.9",
        "metadata": {"start_time": start, "end_time": end, "transcript": text},
        "results": results,
    }
    if channel is not None:
        msg["channel"] = channel
    return msg


class Session:
    """A recorder on a manual clock, with shortcuts for the usual records."""

    def __init__(self, *, pace: str | None = None, **config: Any) -> None:
        self.clock = ManualClock()
        self.recorder = Recorder(self.clock)
        note = {"url": "ws://127.0.0.1:1/v2", "source": "t.wav"}
        self.recorder.record_meta("Session", {**note, "pace": pace} if pace else note)
        self.recorder.record_sent(
            {
                "message": "StartRecognition",
                "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000},
                "transcription_config": {"language": "en", **config},
            }
        )

    def recv(self, t: float, msg: dict[str, Any]) -> None:
        self.clock.set(max(self.clock.now, t))
        self.recorder.record_received(msg, t)

    def audio(
        self,
        t: float,
        seq: int,
        start: float,
        end: float,
        *,
        due: float,
        channel: str | None = None,
    ) -> None:
        self.clock.set(max(self.clock.now, t))
        self.recorder.record_audio(seq, 4000, start, end, scheduled_t=due, t=t, channel=channel)

    def meta(self, t: float, kind: str, payload: dict[str, Any] | None = None) -> None:
        self.clock.set(max(self.clock.now, t))
        self.recorder.record_meta(kind, payload)


def rerecord(recorder: Recorder, rec: Record) -> None:
    """Record ``rec`` again through the public ``record_*`` calls (keeping its time)."""
    if rec.direction == "recv":
        assert rec.payload is not None
        recorder.record_received(rec.payload, rec.t)
    elif rec.audio_end is not None:
        assert rec.seq_no is not None and rec.nbytes is not None
        assert rec.audio_start is not None and rec.scheduled_t is not None
        recorder.record_audio(
            rec.seq_no,
            rec.nbytes,
            rec.audio_start,
            rec.audio_end,
            scheduled_t=rec.scheduled_t,
            t=rec.t,
            channel=rec.channel,
        )
    elif rec.direction == "sent":
        assert rec.payload is not None
        recorder.record_sent(rec.payload, t=rec.t)
    else:
        recorder.record_meta(rec.type, rec.payload)


def values(series: Any) -> list[object]:
    """Plain Python values of a pandas Series with every missing marker as None."""
    import pandas as pd

    return [None if pd.isna(v) else v for v in series.astype(object)]
