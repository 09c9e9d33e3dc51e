"""Real speech through a real :class:`ServerSession` and the real pocketsphinx recognizer.

No sockets and no worker processes: the session's actions are carried out inline, as the
transport would, with :class:`PocketsphinxRecognizer` on one decoder whose cepstral mean is
reset before every run to the one it learnt from a bundled clip (``cards-005``, audio the
project owns, not the clip under test). So two runs of the same audio give the same words,
and comparing a run with an option against one without isolates the option's effect.
"""

from __future__ import annotations

import json
import warnings
from collections import deque
from collections.abc import Iterable
from functools import cache
from typing import Any

import numpy as np

from smnb.server.pocketsphinx import batch
from smnb.server.pocketsphinx.decoder import new_decoder
from smnb.server.pocketsphinx.recognizer import PocketsphinxRecognizer
from smnb.server.protocol.actions import (
    Action,
    Close,
    Feed,
    Finish,
    ForceEnd,
    OpenChannels,
    QuerySpeakers,
    Send,
)
from smnb.server.protocol.session import ServerSession
from tests.support import server_messages
from tests.support.engine_audio import clip

RAW16 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
Message = dict[str, Any]


@cache
def _decoder() -> tuple[Any, str]:
    decoder = new_decoder()
    batch.recognize(clip("cards-005"), decoder=decoder)
    return decoder, decoder.get_cmn()


def warm_decoder() -> Any:
    """The shared decoder, reset to the cepstral mean it learnt from ``cards-005``."""
    decoder, cmn = _decoder()
    decoder.set_cmn(cmn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated, still resets noise
        decoder.start_stream()
    return decoder


def run(
    audio: np.ndarray | bytes,
    audio_format: Message | None = None,
    *,
    chunk: int = 6400,
    extra: Message | None = None,
    mid: Iterable[tuple[int, Message]] = (),
    **config: Any,
) -> list[Message]:
    """Every message the session sends for ``audio`` (int16 16 kHz samples, or the bytes of
    ``audio_format``) under ``transcription_config`` ``{"language": "en", **config}``.

    ``extra``: more top-level ``StartRecognition`` fields. ``mid``: ``(frame index,
    message)`` pairs sent before that frame (e.g. ``SetRecognitionConfig``).
    """
    data = audio if isinstance(audio, bytes) else np.asarray(audio, "<i2").tobytes()
    session = ServerSession("speech")
    sent: list[Message] = []
    recognizers: dict[str | None, PocketsphinxRecognizer] = {}

    def carry_out(actions: list[Action]) -> None:
        queue = deque(actions)
        while queue:
            action = queue.popleft()
            if isinstance(action, Send):
                server_messages.record(action.message)
                sent.append(json.loads(json.dumps(action.message)))
            elif isinstance(action, Close):
                return
            else:
                queue.extendleft(reversed(session.engine_done(action, engine(action))))

    def engine(action: Action) -> Any:
        if isinstance(action, OpenChannels):
            for label in action.channels:
                recognizers[label] = PocketsphinxRecognizer(action.settings, decoder=warm_decoder())
            return None
        if isinstance(action, QuerySpeakers):
            merged: dict[str, list[str]] = {}
            for rec in recognizers.values():
                for label, ids in rec.speakers().items():
                    merged.setdefault(label, []).extend(ids)
            return merged
        assert isinstance(action, Feed | ForceEnd | Finish)
        rec = recognizers[action.channel]
        if isinstance(action, Feed):
            return rec.feed(action.samples)
        if isinstance(action, ForceEnd):
            return rec.force_end_of_utterance()
        return rec.finish()

    carry_out(session.opened())
    start = {
        "message": "StartRecognition",
        "audio_format": audio_format or RAW16,
        "transcription_config": {"language": "en", **config},
        **(extra or {}),
    }
    carry_out(session.receive_text(json.dumps(start)))
    pending = dict(mid)
    frames = 0
    for i in range(0, len(data), chunk):
        if frames in pending:
            carry_out(session.receive_text(json.dumps(pending.pop(frames))))
        carry_out(session.receive_binary(data[i : i + chunk]))
        frames += 1
    carry_out(session.receive_text(json.dumps({"message": "EndOfStream", "last_seq_no": frames})))
    for rec in recognizers.values():
        rec.close()
    return sent


def finals(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m["message"] == "AddTranscript"]


def results(messages: list[Message], kind: str | None = None) -> list[Message]:
    """The results of every final, in order (only ``kind`` ones if given)."""
    out = [r for m in finals(messages) for r in m["results"]]
    return [r for r in out if kind is None or r["type"] == kind]


def words(messages: list[Message]) -> list[str]:
    return [r["alternatives"][0]["content"] for r in results(messages, "word")]


def text(messages: list[Message]) -> str:
    return "".join(m["metadata"]["transcript"] for m in finals(messages))
