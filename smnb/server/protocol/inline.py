"""One server session run in-process: the real protocol layer on a recognizer, no sockets.

:func:`run_inline` plays the transport of :mod:`smnb.server.app` synchronously: it hands
the session each client frame, carries out the actions in order (engine commands on one
recognizer per channel, made by ``recognizer``) and stamps every message it sends with the
audio the recognizer had decoded by then, the server's own clock. So the outcome is the
messages the real server would send for the same frames, in audio time, at no pace at all:
what benchmarks and tests of the protocol layer compare across settings.

Stdlib only; the recognizer comes from the caller (e.g.
:class:`smnb.server.pocketsphinx.recognizer.PocketsphinxRecognizer`).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from smnb.exceptions import SessionClosed
from smnb.protocol.messages import Message
from smnb.server.protocol.actions import (
    Action,
    Close,
    EngineCommand,
    Feed,
    Finish,
    ForceEnd,
    OpenChannels,
    QuerySpeakers,
    Reconfigure,
    Send,
)
from smnb.server.protocol.session import ServerSession
from smnb.server.recognizer import Recognizer, RecognizerSettings, Update

RAW16 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}

Timed = list[tuple[float, Message]]
"""``(audio seconds decoded when it was sent, message)`` in the order sent."""


def run_inline(
    pcm: bytes,
    config: Mapping[str, Any],
    recognizer: Callable[[RecognizerSettings], Recognizer],
    *,
    chunk: int = 3200,
    texts: Mapping[int, Mapping[str, Any]] | None = None,
) -> Timed:
    """Every server message of one session on raw 16 kHz s16 ``pcm``.

    Args:
        pcm: the audio, sent in frames of ``chunk`` bytes, then ``EndOfStream``.
        config: the ``transcription_config`` (``language`` defaults to ``en``).
        recognizer: makes a recognizer for the session's settings; closed at the end
            if it has ``close()``.
        texts: client messages (e.g. ``SetRecognitionConfig``) to send once that many
            bytes of audio have gone.

    Raises:
        SessionClosed: the session failed (bad config, a recognizer error).
    """
    session = ServerSession("inline")
    recognizers: dict[str | None, Recognizer] = {}
    out: Timed = []
    position = 0.0

    def execute(action: EngineCommand) -> Any:
        nonlocal position
        if isinstance(action, OpenChannels):
            recognizers.update({c: recognizer(action.settings) for c in action.channels})
            return None
        if isinstance(action, QuerySpeakers):
            return {k: v for r in recognizers.values() for k, v in r.speakers().items()}
        rec = recognizers[action.channel]
        if isinstance(action, Reconfigure):
            return rec.reconfigure(action.max_delay, action.max_delay_mode)
        result: Update
        if isinstance(action, Feed):
            result = rec.feed(action.samples)
        elif isinstance(action, ForceEnd):
            result = rec.force_end_of_utterance()
        else:
            assert isinstance(action, Finish)
            result = rec.finish()
        position = max(position, result.processed_until)
        return result

    def run(actions: list[Action]) -> None:
        queue = deque(actions)
        while queue:
            action = queue.popleft()
            if isinstance(action, Send):
                out.append((position, action.message))
            elif isinstance(action, Close):
                raise SessionClosed(json.dumps(out[-1][1]))
            else:
                queue.extendleft(reversed(session.engine_done(action, execute(action))))

    run(session.opened())
    start = {"message": "StartRecognition", "audio_format": RAW16,
             "transcription_config": {"language": "en", **config}}  # fmt: skip
    run(session.receive_text(json.dumps(start)))
    pending = dict(texts or {})
    try:
        for i in range(0, len(pcm), chunk):
            for at in sorted(k for k in pending if k <= i):
                run(session.receive_text(json.dumps(pending.pop(at))))
            run(session.receive_binary(pcm[i : i + chunk]))
        run(session.receive_text(json.dumps({"message": "EndOfStream", "last_seq_no": 0})))
    finally:
        for rec in recognizers.values():
            close = getattr(rec, "close", None)
            if close is not None:
                close()
    return out


def of(timed: Timed, kind: str) -> Timed:
    """The messages of one type."""
    return [(t, m) for t, m in timed if m["message"] == kind]


def final_latencies(timed: Timed) -> list[tuple[float, float]]:
    """``(word end_time, audio decoded when its final went out − end_time)`` per final word."""
    return [
        (r["end_time"], t - r["end_time"])
        for t, m in of(timed, "AddTranscript")
        for r in m["results"]
        if r["type"] == "word"
    ]
