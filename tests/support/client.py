"""Shared pieces for the client, API and CLI tests: tone audio and real local servers.

The servers are the real :func:`smnb.server.serve` on loopback. Most tests host
the server's :class:`~server.fakes.ToneRecognizer` (tones in, named words out)
so they are exact and fast; the engine doubles below subclass it to fail or
stall on cue.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from smnb.server import serve
from smnb.server.recognizer import RecognizerSettings
from tests.support.server_fakes import InlineEngine, inline_engine_factory, speech

TESTS = Path(__file__).resolve().parents[1]
SCRIPT = ("alpha", 0.4, "bravo", 0.4, "charlie", 0.4, "delta", 0.4)
"""About 2.8 s of tone 'speech'; the tone recognizer hears 'alpha bravo charlie delta'."""
WORDS = ["alpha", "bravo", "charlie", "delta"]


def tone_wav(path: Path, script: tuple[Any, ...] = SCRIPT, *, channels: int = 1) -> Path:
    """Write tone speech as a 16 kHz WAV (stereo: the script, then its reverse order)."""
    x = speech(list(script))
    if channels == 2:
        other = speech([w if isinstance(w, float) else "echo" for w in script])
        x = np.stack([x, other[: len(x)]], axis=1)
    sf.write(path, x, 16_000, subtype="PCM_16")
    return path


def words_of(result: Any) -> list[str]:
    df = result.words
    return [str(w) for w in df.loc[df["type"] == "word", "content"]]


class FailingEngine(InlineEngine):
    """Tone recognizers whose ``feed`` raises after ``after`` calls (→ ``Error job_error``)."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after
        self.feeds = 0

    async def open(self, settings: RecognizerSettings) -> Any:
        handle = await super().open(settings)
        engine = self
        original = handle.feed

        async def feed(pcm: bytes) -> Any:
            engine.feeds += 1
            if engine.feeds > engine.after:
                raise RuntimeError("engine crashed")
            return await original(pcm)

        handle.feed = feed
        return handle


class StallingEngine(InlineEngine):
    """Opening a recognizer hangs until :meth:`release`: no ``RecognitionStarted`` meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.released = asyncio.Event()

    async def open(self, settings: RecognizerSettings) -> Any:
        await self.released.wait()
        raise RuntimeError("released")

    def release(self) -> None:
        self.released.set()


@contextlib.asynccontextmanager
async def tone_server(engine: InlineEngine | None = None, **kwargs: Any) -> AsyncIterator[str]:
    """The real server on this loop, hosting tone recognizers."""
    async with serve(engine_factory=inline_engine_factory(engine), **kwargs) as url:  # type: ignore[arg-type]
        yield url


@contextlib.contextmanager
def thread_server(**kwargs: Any) -> Iterator[str]:
    """The real server (tone engine) on its own loop in a thread, for code that blocks a loop."""
    ready: list[str] = []
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        holder["loop"] = asyncio.get_running_loop()
        holder["stop"] = stop = asyncio.Event()
        async with tone_server(**kwargs) as url:
            ready.append(url)
            started.set()
            await stop.wait()

    def target() -> None:
        try:
            asyncio.run(main())
        finally:
            started.set()

    thread = threading.Thread(target=target, name="test-server", daemon=True)
    thread.start()
    started.wait(60)
    if not ready:
        raise RuntimeError("the test server did not start")
    try:
        yield ready[0]
    finally:
        holder["loop"].call_soon_threadsafe(holder["stop"].set)
        thread.join(30)


SERVER_SCRIPT = """
import asyncio, sys
sys.path.insert(0, {root!r})
from tests.support.server_fakes import inline_engine_factory
from smnb.server.app import run
asyncio.run(run("127.0.0.1", 0, api_key={api_key!r}, engine_factory=inline_engine_factory(),
                ready=lambda url: print(url, flush=True)))
"""


@contextlib.contextmanager
def process_server(api_key: str | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The real server (tone engine) in a child process that a test may kill."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT.format(root=str(TESTS.parent), api_key=api_key)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()  # printed once it accepts connections
        if not url.startswith("ws://"):
            raise RuntimeError(f"server did not start: {url!r}")
        yield url, proc
    finally:
        proc.kill()
        proc.wait(30)


@contextlib.asynccontextmanager
async def injecting_proxy(upstream: str, after: str, frame: str) -> AsyncIterator[str]:
    """A real WebSocket proxy on loopback in front of ``upstream`` (the real server).

    Every frame passes through unchanged, both ways; right after the first server
    message of type ``after`` it also sends ``frame`` (text) to the client, once.
    """
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import ServerConnection
    from websockets.asyncio.server import serve as ws_serve
    from websockets.exceptions import ConnectionClosed

    async def handler(client: ServerConnection) -> None:
        injected = False
        async with connect(upstream, compression=None, max_size=None) as server:

            async def to_server() -> None:
                with contextlib.suppress(ConnectionClosed):
                    async for data in client:
                        await server.send(data)
                await server.close()

            async def to_client() -> None:
                nonlocal injected
                with contextlib.suppress(ConnectionClosed):
                    async for data in server:
                        await client.send(data)
                        if not injected and isinstance(data, str) and f'"{after}"' in data:
                            injected = True
                            await client.send(frame)
                await client.close(server.close_code or 1000, server.close_reason or "")

            async with asyncio.TaskGroup() as tg:
                tg.create_task(to_server())
                tg.create_task(to_client())

    async with ws_serve(handler, "127.0.0.1", 0, compression=None, max_size=None) as proxy:
        port = proxy.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v2"
