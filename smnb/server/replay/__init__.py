"""Replay: serve a recorded session again, with its real timing, to any RT v2 client.

``smnb serve --replay PATH`` or ``smnb.server.serve(replay=PATH)``: PATH is an
smnb output directory or ``messages.jsonl``, or a recording in the SaaS line
format (``ts``, ``audio_ts``, ``payload``). Each recorded server message goes out
when the client's audio reaches the audio time at which it originally arrived,
so latency measured on a replay is the recording's.

* :mod:`~smnb.server.replay.recording` — a recording arranged by release time.
* :mod:`~smnb.server.replay.reference` — the recording's audio, to check the client's.
* :mod:`~smnb.server.replay.compare` — config and audio-format differences in words.
* :mod:`~smnb.server.replay.session` — the sans-I/O replay of one connection.
* :mod:`~smnb.server.replay.transport` — its WebSocket loop, hooked into ``serve()``.
"""

from __future__ import annotations

from smnb.server.replay.prepare import Replay, ReplaySpec, prepare_replay
from smnb.server.replay.recording import Recording, Timed, load_recording
from smnb.server.replay.session import MISMATCH, ReplaySession

__all__ = [
    "MISMATCH",
    "Recording",
    "Replay",
    "ReplaySession",
    "ReplaySpec",
    "Timed",
    "load_recording",
    "prepare_replay",
]
