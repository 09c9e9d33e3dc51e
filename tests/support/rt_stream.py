"""A plain WebSocket client for end-to-end server tests: stream raw PCM, keep every message.

:func:`stream` sends 16 kHz s16 audio in fixed chunks, at real-time pace (absolute
deadlines, like a microphone) or as fast as the server reads it, and records each server
message with its wall-clock arrival (seconds since the first chunk's deadline) and its
audio position: the audio acknowledged by the last ``AudioAdded`` before it, which does not
depend on the pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

RAW16 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


@dataclass
class Received:
    """Every server message of one session, in order."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)
    """Wall seconds since the first chunk's deadline."""
    position: list[float] = field(default_factory=list)
    """Audio seconds acknowledged when the message came."""

    def timed(self) -> list[tuple[float, dict[str, Any]]]:
        return list(zip(self.position, self.messages, strict=True))


async def stream(
    url: str,
    pcm: bytes,
    config: Mapping[str, Any],
    *,
    chunk: int = 3200,
    realtime: bool = False,
    texts: Mapping[int, Mapping[str, Any]] | None = None,
) -> Received:
    """One session; ``texts`` are sent once that many bytes of audio have gone."""
    out = Received()
    loop = asyncio.get_running_loop()
    t0 = 0.0
    chunk_s = chunk / 32000
    async with connect(url, max_size=None) as ws:
        start = {"message": "StartRecognition", "audio_format": RAW16,
                 "transcription_config": {"language": "en", **config}}  # fmt: skip
        await ws.send(json.dumps(start))
        while json.loads(await asyncio.wait_for(ws.recv(), 60))["message"] != "RecognitionStarted":
            pass

        async def send() -> None:
            pending = dict(texts or {})
            for i in range(0, len(pcm), chunk):
                for at in sorted(k for k in pending if k <= i):
                    await ws.send(json.dumps(pending.pop(at)))
                if realtime:
                    await asyncio.sleep(max(0.0, t0 + i / 32000 + chunk_s - loop.time()))
                await ws.send(pcm[i : i + chunk])
            await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": 0}))

        t0 = loop.time()
        sender = asyncio.create_task(send())
        acked = 0
        try:
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if msg["message"] == "AudioAdded":
                    acked = msg["seq_no"]
                out.messages.append(msg)
                out.arrived.append(loop.time() - t0)
                out.position.append(min(acked * chunk, len(pcm)) / 32000)
                if msg["message"] in ("EndOfTranscript", "Error"):
                    break
        finally:
            sender.cancel()
    return out


async def converse(
    url: str,
    start: Mapping[str, Any],
    frames: Sequence[bytes | Mapping[str, Any]] = (),
    *,
    end: bool = True,
) -> list[dict[str, Any]]:
    """Every message of one session on a real socket: ``start`` (the ``StartRecognition``),
    then once ``RecognitionStarted`` came each of ``frames`` in order (bytes as audio, a
    mapping as a JSON message), waiting for each audio frame's ack, then ``EndOfStream``
    (with ``end``). Stops at ``EndOfTranscript``, ``Error`` or the close."""
    out: list[dict[str, Any]] = []
    async with connect(url, max_size=None) as ws:

        async def until(kind: str) -> bool:
            with contextlib.suppress(ConnectionClosed):
                while True:
                    out.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
                    if out[-1]["message"] == kind:
                        return True
                    if out[-1]["message"] == "Error":
                        break
            return False

        if await until_sent(ws, start) and await until("RecognitionStarted"):
            for frame in frames:
                if not await until_sent(ws, frame):
                    break
                if isinstance(frame, bytes) and not await until("AudioAdded"):
                    return out
            end_of_stream = {"message": "EndOfStream", "last_seq_no": 0}
            if not end or await until_sent(ws, end_of_stream):
                await until("EndOfTranscript")
    return out


async def until_sent(ws: ClientConnection, frame: bytes | Mapping[str, Any]) -> bool:
    """Send one frame; False if the server has closed the connection already."""
    try:
        await ws.send(frame if isinstance(frame, bytes) else json.dumps(frame))
    except ConnectionClosed:
        return False
    return True
