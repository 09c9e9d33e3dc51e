"""A transcript depends on its audio and config alone (issue 10), through the real server.

The real engine pool and pocketsphinx decode real speech (two bundled clips with a pause
between them, 6.9 s) sent over a loopback WebSocket by a minimal client. The final words
(content, start and end time, confidence, punctuation) must be identical:

* on a fresh server and on one that has served other sessions, white noise included;
* sent at real-time pace or as fast as possible;
* in 20 ms or 500 ms chunks;
* as raw ``pcm_s16le`` or as the same samples in a WAV or a FLAC file;
* alone, or beside two concurrent sessions.

How the words are grouped into ``AddTranscript`` messages may differ (it follows the
audio the server had when it sent them); the words may not.
"""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import numpy as np
import pytest
import soundfile
from websockets.asyncio.client import connect

from smnb.server import serve
from tests.support.engine_audio import clip, white_noise

pytestmark = pytest.mark.timeout(600)

RATE = 16000
RAW = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": RATE}
FILE = {"type": "file"}
CONFIG = {"language": "en", "max_delay": 1.0, "max_delay_mode": "fixed"}

Final = tuple[str, str, float, float, float]


def speech() -> np.ndarray:
    pause = np.zeros(RATE // 2, dtype=np.int16)
    return np.concatenate([clip("librivox-ss01-0880"), pause, clip("librivox-ss01-0930")])


def container(samples: np.ndarray, kind: str) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, samples, RATE, format=kind, subtype="PCM_16")
    return out.getvalue()


async def session(
    url: str,
    data: bytes,
    *,
    audio_format: dict[str, Any] = RAW,
    chunk_seconds: float = 0.1,
    realtime: bool = False,
) -> list[Final]:
    """One session; every final result as (type, content, start, end, confidence)."""
    chunk = round(chunk_seconds * RATE) * 2
    async with connect(url, max_size=None) as ws:
        start = {
            "message": "StartRecognition",
            "audio_format": audio_format,
            "transcription_config": CONFIG,
        }
        await ws.send(json.dumps(start))
        finals: list[Final] = []

        async def receive() -> None:
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 120))
                assert msg["message"] != "Error", msg
                if msg["message"] == "AddTranscript":
                    for r in msg["results"]:
                        best = r["alternatives"][0]
                        finals.append(
                            (r["type"], best["content"], r["start_time"], r["end_time"],
                             best.get("confidence", -1.0))
                        )  # fmt: skip
                if msg["message"] == "EndOfTranscript":
                    return

        receiver = asyncio.create_task(receive())
        seq = 0
        for offset in range(0, len(data), chunk):
            await ws.send(data[offset : offset + chunk])
            seq += 1
            if realtime:
                await asyncio.sleep(chunk_seconds)
        await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": seq}))
        await receiver
    return finals


async def test_finals_depend_on_the_audio_and_config_alone() -> None:
    samples = speech()
    pcm = samples.tobytes()
    async with serve() as url:
        fresh = await session(url, pcm)  # the first session of a fresh server
        words = [f for f in fresh if f[0] == "word"]
        assert len(words) >= 10 and len({f[4] for f in words}) > 3  # real words, real scores

        # a server that has served other sessions, white noise first
        for seed in (1, 2):
            await session(url, white_noise(5.0, seed=seed).tobytes())
        await session(url, clip("cards-005").tobytes())
        assert await session(url, pcm) == fresh

        # feed sizes, and the same samples in a container
        assert await session(url, pcm, chunk_seconds=0.02) == fresh
        assert await session(url, pcm, chunk_seconds=0.5) == fresh
        for kind in ("WAV", "FLAC"):
            data = container(samples, kind)
            assert await session(url, data, audio_format=FILE) == fresh, kind

        # beside two concurrent sessions (one of them noise)
        beside = await asyncio.gather(
            session(url, pcm),
            session(url, clip("librispeech-1988-24833-0001").tobytes()),
            session(url, white_noise(5.0, seed=3).tobytes()),
        )
        assert beside[0] == fresh

        # real-time pace, last: it takes the audio's duration
        assert await session(url, pcm, realtime=True) == fresh
