"""Several official clients at once against the real engine: nobody stalls anybody.

Decoding runs in the engine's worker processes, so while sessions stream audio
as fast as they can, the server's event loop still answers a third connection's
pings at once, and every session gets its whole transcript.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from speechmatics.rt import AsyncClient, TranscriptionConfig
from websockets.asyncio.client import connect

from .conftest import SAMPLES, WER_BOUND, reference, wer
from .test_rt_client import Collector

pytestmark = pytest.mark.timeout(180)

NAMES = ["librivox-ss01-0870", "librispeech-1988-24833-0001", "librivox-ss01-0920"]


async def transcribe(url: str, name: str) -> str:
    async with AsyncClient(url=url) as client:
        seen = Collector(client)
        with open(SAMPLES / f"{name}.wav", "rb") as audio:
            await client.transcribe(audio, transcription_config=TranscriptionConfig(max_delay=2.0))
    assert seen.end.is_set()
    return seen.finals()


async def test_concurrent_fast_sessions_keep_the_server_responsive(server_url: str) -> None:
    rtts: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        async with connect(server_url) as ws:
            await ws.recv()  # Info concurrent_session_usage
            while not stop.is_set():
                t = time.perf_counter()
                await asyncio.wait_for(await ws.ping(), 10)
                rtts.append(time.perf_counter() - t)
                await asyncio.sleep(0.02)

    prober = asyncio.create_task(probe())
    texts = await asyncio.gather(*(transcribe(server_url, name) for name in NAMES))
    stop.set()
    await prober
    for name, text in zip(NAMES, texts, strict=True):
        assert wer(reference(name), text) <= WER_BOUND, (name, text)
    assert len(rtts) > 20
    # The loop never blocks on decoding: pongs come back at once throughout.
    assert max(rtts) < 0.3, sorted(rtts)[-5:]
