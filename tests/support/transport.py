"""Shared pieces of the transport and stream tests: a runner over a tone file, record kinds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smnb.audio import PcmSource, decode_file
from smnb.protocol import messages as m
from smnb.recorder import RECEIVED, SENT, Record, Recorder
from smnb.session.transport import SessionRunner

START = m.start_recognition(
    {"language": "en", "enable_partials": True, "max_delay": 1.0},
    {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16_000},
)


def runner(url: str, path: Path, recorder: Recorder | None = None, **kwargs: Any) -> SessionRunner:
    source = kwargs.pop("source", None) or PcmSource(decode_file(path))
    return SessionRunner(url, source, START, Recorder() if recorder is None else recorder, **kwargs)


def kinds(recorder: Recorder) -> list[tuple[str, str]]:
    return [(r.direction, r.type) for r in recorder.records]


def unacked_at_each_send(records: list[Record]) -> list[int]:
    """Frames awaiting AudioAdded just after each frame was sent, from the log alone."""
    acked, out = 0, []
    for r in records:
        if r.direction == RECEIVED and r.type == "AudioAdded":
            acked = max(acked, r.seq_no or 0)
        elif r.direction == SENT and r.type == "AddAudio":
            out.append((r.seq_no or 0) - acked)
    return out
