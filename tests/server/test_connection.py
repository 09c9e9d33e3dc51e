"""One connection's loop on a real loopback socket: limits, capacity, shutdown, slow readers.

Recognition is :class:`ToneRecognizer` (in-process, exact); the real engine meets the
same situations in ``tests/server/faults``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from smnb.exceptions import EngineAtCapacity
from smnb.server import serve
from smnb.server.engine.pool import EnginePool
from smnb.server.recognizer import RecognizerSettings
from tests.support.server_fakes import InlineEngine, inline_engine_factory, s16, speech

START = {
    "message": "StartRecognition",
    "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000},
    "transcription_config": {"language": "en", "max_delay": 1.0},
}
AUDIO = s16(speech(["alpha", 0.1, "bravo", 0.5]))


async def recv_json(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(frame, str)
    msg: dict[str, Any] = json.loads(frame)
    return msg


async def messages_until_closed(ws: ClientConnection, timeout: float = 10) -> list[dict[str, Any]]:
    out = []
    with pytest.raises(ConnectionClosed):
        while True:
            out.append(await recv_json(ws, timeout))
    return out


async def test_a_client_that_sends_no_audio_is_warned_then_ended() -> None:
    server = serve(engine_factory=inline_engine_factory(), idle_timeout=1.0)
    async with server as url, connect(url) as ws:
        await ws.send(json.dumps(START))
        msgs = await messages_until_closed(ws)
    kinds = [(m["message"], m.get("type")) for m in msgs]
    assert kinds[-2:] == [("Warning", "idle_timeout"), ("Error", "idle_timeout")]
    assert "timeout in 0.5s due to inactivity" in msgs[-2]["reason"]
    assert ws.close_code == 1008


async def test_audio_keeps_an_idle_limit_at_bay() -> None:
    server = serve(engine_factory=inline_engine_factory(), idle_timeout=1.0)
    async with server as url, connect(url) as ws:
        await ws.send(json.dumps(START))
        for _ in range(8):  # 2 s of audio, a piece every 0.25 s
            await asyncio.sleep(0.25)
            await ws.send(AUDIO[:8000])
        await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": 8}))
        msgs = []
        while not msgs or msgs[-1]["message"] != "EndOfTranscript":
            msgs.append(await recv_json(ws))
    assert not [m for m in msgs if m["message"] in ("Warning", "Error")]


async def test_a_session_ends_at_its_maximum_length() -> None:
    server = serve(engine_factory=inline_engine_factory(), max_session_length=1.2)
    async with server as url, connect(url) as ws:
        await ws.send(json.dumps(START))

        async def stream() -> None:
            with pytest.raises(ConnectionClosed):
                while True:
                    await ws.send(AUDIO[:3200])
                    await asyncio.sleep(0.1)

        sender = asyncio.create_task(stream())
        msgs = await messages_until_closed(ws)
        await sender
    kinds = [(m["message"], m.get("type")) for m in msgs if m["message"] in ("Warning", "Error")]
    assert kinds == [("Warning", "session_timeout"), ("Error", "session_timeout")]
    assert ws.close_code == 1008


async def test_a_peer_that_never_answers_pings_is_ended_as_idle() -> None:
    async with serve(engine_factory=inline_engine_factory(), no_traffic_timeout=1.0) as url:
        port = int(url.split(":")[2].split("/")[0])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"GET /v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await writer.drain()
        received = b""
        async with asyncio.timeout(10):  # this client reads, but never pongs nor sends
            while chunk := await reader.read(65536):
                received += chunk
                if b"no ping/pong" in received:
                    break
        writer.close()
    assert b"101 Switching Protocols" in received
    assert b"idle_timeout" in received and b"no audio and no ping/pong" in received


async def test_shutdown_tells_every_open_session_why() -> None:
    async with serve(engine_factory=inline_engine_factory()) as url:
        first = await connect(url)
        second = await connect(url)
        await first.send(json.dumps(START))
        await recv_json(first)  # Info
        await recv_json(first)  # RecognitionStarted
    for ws in (first, second):
        with pytest.raises(ConnectionClosed):
            while True:
                await recv_json(ws)
        assert ws.close_code == 1001
        assert ws.close_reason == "the server is shutting down"


class CappedEngine(InlineEngine):
    """The inline engine with a capacity, as the real pool has one."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity
        self.in_use = 0

    async def open(self, settings: RecognizerSettings) -> Any:
        if self.in_use >= self.capacity:
            raise EngineAtCapacity(f"the server is at capacity: {self.in_use} in use")
        self.in_use += 1
        handle = await super().open(settings)
        close = handle.close

        async def closing() -> None:
            self.in_use -= 1
            await close()

        handle.close = closing  # type: ignore[method-assign]
        return handle


def engine_of(engine: InlineEngine) -> Callable[[], Any]:
    @asynccontextmanager
    async def factory() -> AsyncIterator[InlineEngine]:
        yield engine

    return factory


async def test_at_capacity_a_session_is_refused_at_once_with_quota_exceeded() -> None:
    engine = CappedEngine(capacity=1)
    async with serve(engine_factory=engine_of(engine)) as url:
        early = await connect(url)  # connected while there was room, started later
        async with connect(url) as first:
            assert (await recv_json(first))["quota"] == 1
            await first.send(json.dumps(START))
            assert (await recv_json(first))["message"] == "RecognitionStarted"
            async with connect(url) as late:  # no room: refused right after the handshake
                msgs = await messages_until_closed(late)
                assert [m["type"] for m in msgs] == ["quota_exceeded"]
                assert "at capacity" in msgs[0]["reason"]
                assert late.close_code == 4005
            await recv_json(early)
            await early.send(json.dumps(START))  # no room when it asks for a recognizer
            msgs = await messages_until_closed(early)
            assert msgs[-1]["type"] == "quota_exceeded" and "capacity" in msgs[-1]["reason"]
            assert early.close_code == 4005
        await asyncio.sleep(0.1)
        async with connect(url) as again:  # the room is back
            await recv_json(again)
            await again.send(json.dumps(START))
            assert (await recv_json(again))["message"] == "RecognitionStarted"


MULTICHANNEL = {
    "message": "StartRecognition",
    "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000},
    "transcription_config": {
        "language": "en", "diarization": "channel", "channel_diarization_labels": ["L", "R"],
    },
}  # fmt: skip


async def test_sequential_sessions_at_capacity_are_never_refused() -> None:
    """Two-channel sessions one after the other on a real pool of two recognizers: each
    starts as soon as the last one's ``EndOfTranscript`` came (its socket still open, as
    a client may close it later), and always finds room."""
    helpers = importlib.import_module("tests.support.engine_helpers")
    pool = EnginePool(capacity=2, factory=helpers.counting, prewarm=None, queue_timeout=0)
    data = base64.b64encode(bytes(3200)).decode()
    audio = {"message": "AddChannelAudio", "channel": "L", "data": data}

    async def session(url: str) -> tuple[ClientConnection, str]:
        ws = await connect(url)
        for msg in (MULTICHANNEL, audio, {"message": "EndOfStream", "last_seq_no": 1}):
            await ws.send(json.dumps(msg))
        while (got := await recv_json(ws))["message"] not in ("EndOfTranscript", "Error"):
            pass
        return ws, got.get("type", got["message"])

    outcomes = []
    async with pool, serve(engine_factory=lambda: contextlib.nullcontext(pool)) as url:
        pool.keep_spares(1)
        last: ClientConnection | None = None
        for _ in range(6):
            ws, outcome = await session(url)
            outcomes.append(outcome)
            if last is not None:
                await last.close()
            last = ws
        assert last is not None
        await last.close()
    assert outcomes == ["EndOfTranscript"] * 6


async def test_a_client_reconnecting_after_dropping_its_socket_finds_its_room() -> None:
    """At capacity, a client drops its socket while its feed is being decoded and
    reconnects at once: the new session waits for the old one's recognizer instead of
    being refused for a session that no longer exists."""
    helpers = importlib.import_module("tests.support.engine_helpers")
    pool = EnginePool(capacity=1, factory=helpers.pausing, prewarm=None, queue_timeout=0)
    async with pool, serve(engine_factory=lambda: contextlib.nullcontext(pool)) as url:
        gone = await connect(url)
        await gone.send(json.dumps(START))
        while (await recv_json(gone))["message"] != "RecognitionStarted":
            pass
        await gone.send(bytes(3200))
        await asyncio.sleep(0.1)  # the feed is in the worker (0.5 s)
        assert pool.in_use == 1
        gone.transport.abort()  # no close frame: the socket just drops
        async with connect(url) as again:
            await again.send(json.dumps(START))
            msgs = [await recv_json(again)]
            while msgs[-1]["message"] not in ("RecognitionStarted", "Error"):
                msgs.append(await recv_json(again))
        assert msgs[-1]["message"] == "RecognitionStarted", msgs


async def test_a_flooding_client_that_never_reads_harms_no_one() -> None:
    async with serve(engine_factory=inline_engine_factory()) as url:
        port = int(url.split(":")[2].split("/")[0])
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, at once
        sock.connect(("127.0.0.1", port))
        flooder = await connect(url, sock=sock, max_queue=1)
        await flooder.send(json.dumps(START))
        flooder.transport.pause_reading()  # this client never reads a byte again
        stop = asyncio.Event()

        async def flood() -> int:
            sent = 0
            while not stop.is_set():
                await flooder.send(AUDIO[:640])
                sent += 1
                await asyncio.sleep(0)  # the server shares this loop
            return sent

        flooding = asyncio.create_task(flood())
        await asyncio.sleep(0.5)
        async with connect(url) as other:  # meanwhile, a whole session goes through
            await recv_json(other)
            await other.send(json.dumps(START))
            assert (await recv_json(other))["message"] == "RecognitionStarted"
            await other.send(AUDIO)
            await other.send(json.dumps({"message": "EndOfStream", "last_seq_no": 1}))
            msgs = []
            while not msgs or msgs[-1]["message"] != "EndOfTranscript":
                msgs.append(await recv_json(other))
            text = "".join(
                m["metadata"]["transcript"] for m in msgs if m["message"] == "AddTranscript"
            )
            assert text == "Alpha bravo. "
        stop.set()
        assert await flooding > 100
        flooder.transport.abort()
