"""A loopback TCP proxy that resets connections on cue, for the reconnect tests.

It forwards bytes both ways between a client and a real upstream server (the local
RT v2 server) and, for the connection numbers it is told about, resets the client's
TCP connection (RST, as a dropped network or a crashed load balancer does):

- ``Cut("handshake")``: after the HTTP upgrade request arrived, before any answer;
- ``Cut("start")``: right after the client's ``StartRecognition`` went upstream, so
  ``RecognitionStarted`` never reaches the client;
- ``Cut("after", seconds)``: that many seconds after the connection was accepted;
- ``Cut("frames", count=n)``: right after the client's ``n``-th audio frame went upstream;
- ``Cut("eos")``: right after the client's ``EndOfStream`` went upstream, before
  any later message (``EndOfTranscript``) comes back.

Client frames are read with a minimal WebSocket frame parser (they are masked), so
the cues follow the protocol, not byte counts. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

When = Literal["handshake", "start", "after", "frames", "eos"]


@dataclass(frozen=True)
class Cut:
    """When to reset one connection."""

    when: When
    seconds: float = 0.0
    count: int = 0


@dataclass
class Passage:
    """What happened to one proxied connection."""

    index: int
    cut: Cut | None
    up_bytes: int = 0
    down_bytes: int = 0
    texts: list[str] = field(default_factory=list)  # the client's text frames, unmasked
    audio_frames: int = 0
    reset: bool = False


class FrameReader:
    """Client → server WebSocket frames from a byte stream (after the HTTP request)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.in_http = True

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Whole frames completed by ``data``: (opcode, unmasked payload of text frames)."""
        self.buffer += data
        if self.in_http:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return []
            del self.buffer[: end + 4]
            self.in_http = False
        frames = []
        while len(self.buffer) >= 2:
            b0, b1 = self.buffer[0], self.buffer[1]
            n, pos = b1 & 0x7F, 2
            if n == 126:
                if len(self.buffer) < 4:
                    break
                n, pos = struct.unpack("!H", self.buffer[2:4])[0], 4
            elif n == 127:
                if len(self.buffer) < 10:
                    break
                n, pos = struct.unpack("!Q", self.buffer[2:10])[0], 10
            mask = b""
            if b1 & 0x80:
                mask, pos = bytes(self.buffer[pos : pos + 4]), pos + 4
            if len(self.buffer) < pos + n:
                break
            opcode = b0 & 0x0F
            payload = b""
            if opcode == 1:  # only text frames are unmasked: audio is not inspected
                raw = self.buffer[pos : pos + n]
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(raw)) if mask else bytes(raw)
            frames.append((opcode, payload))
            del self.buffer[: pos + n]
        return frames


class ResettingProxy:
    """``async with ResettingProxy(upstream_url, {0: Cut("after", 4)}) as url: ...``"""

    def __init__(self, upstream: str, cuts: dict[int, Cut]) -> None:
        parts = urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/v2"
        self.cuts = cuts
        self.passages: list[Passage] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"ws://127.0.0.1:{port}{self.path}"
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()

    async def __aenter__(self) -> str:
        self._cm = self.running()
        return await self._cm.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await self._cm.__aexit__(None, None, None)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        passage = Passage(len(self.passages), self.cuts.get(len(self.passages)))
        self.passages.append(passage)
        try:
            await self._relay(passage, reader, writer)
        except asyncio.CancelledError:
            pass  # the proxy is shutting down: end quietly (streams log a cancelled handler)
        finally:
            self._tasks.discard(task)

    async def _relay(
        self, passage: Passage, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        cut = passage.cut
        reset = asyncio.Event()
        if cut is not None and cut.when == "handshake":
            with contextlib.suppress(ConnectionError):
                await reader.readuntil(b"\r\n\r\n")
            _reset(writer, passage)
            return
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        frames = FrameReader()

        async def upstream() -> None:
            while data := await reader.read(65536):
                passage.up_bytes += len(data)
                cue = False
                for opcode, payload in frames.feed(data):
                    if opcode == 2:
                        passage.audio_frames += 1
                        cue = cue or _frames_cue(cut, passage.audio_frames)
                    elif opcode == 1:
                        text = payload.decode("utf-8", "replace")
                        passage.texts.append(text)
                        cue = cue or _is_cue(cut, text)
                if cue:
                    reset.set()  # nothing more comes back to the client from here on
                up_writer.write(data)
                await up_writer.drain()
                if cue:
                    return
            up_writer.close()

        async def downstream() -> None:
            while data := await up_reader.read(65536):
                if reset.is_set():
                    return
                passage.down_bytes += len(data)
                writer.write(data)
                await writer.drain()
            writer.close()

        async def timer() -> None:
            if cut is not None and cut.when == "after":
                await asyncio.sleep(cut.seconds)
                reset.set()

        tasks = [asyncio.create_task(c()) for c in (upstream, downstream, timer)]
        cutter = asyncio.create_task(reset.wait())
        try:
            await asyncio.wait(
                [cutter, asyncio.gather(tasks[0], tasks[1], return_exceptions=True)],
                return_when=asyncio.FIRST_COMPLETED,
            )
            if reset.is_set():
                _reset(writer, passage)
        finally:
            for t in [*tasks, cutter]:
                t.cancel()
            await asyncio.gather(*tasks, cutter, return_exceptions=True)
            up_writer.close()
            writer.close()


def _is_cue(cut: Cut | None, text: str) -> bool:
    if cut is None:
        return False
    if cut.when == "start":
        return '"StartRecognition"' in text
    return cut.when == "eos" and '"EndOfStream"' in text


def _frames_cue(cut: Cut | None, n: int) -> bool:
    return cut is not None and cut.when == "frames" and n == cut.count


def _reset(writer: asyncio.StreamWriter, passage: Passage) -> None:
    """Close with RST: the peer sees a reset connection, not a clean close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    passage.reset = True
    writer.transport.abort()
