"""Audio and JSON bombs: refused before decoding, or decoded within bounds, off the loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
import time

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.server_process import ServeProcess, recv_json, start_message

BOMB_MEMORY_MB = 800.0
STALL_BOUND = 0.5
"""Longest any other session may wait for an acknowledgement while a bomb decodes."""


async def refused_with(url: str, *frames: str | bytes, start: str | None = None) -> dict[str, str]:
    """Run a session sending ``frames``; the Error that ended it."""
    async with connect(url, max_size=None) as ws:
        await ws.send(start or start_message(type="file"))
        for frame in frames:
            await ws.send(frame)
        while (msg := await recv_json(ws))["message"] != "Error":
            pass
        with contextlib.suppress(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1008
    return msg


async def test_a_low_raw_sample_rate_is_refused_at_start(server: ServeProcess) -> None:
    start = start_message(type="raw", encoding="mulaw", sample_rate=1000)
    error = await refused_with(server.url, start=start)
    assert error["type"] == "invalid_audio_type"
    assert "1000 Hz; supported rates are 8000–192000 Hz" in error["reason"]


async def test_a_wav_header_declaring_1_hz_is_refused_before_decoding(server: ServeProcess) -> None:
    fmt = struct.pack("<HHIIHH", 1, 1, 1, 2, 2, 16)
    header = b"RIFF\xff\xff\xff\xffWAVEfmt " + struct.pack("<I", 16) + fmt + b"data\xff\xff\xff\xff"
    before = server.memory_mb()[1]
    error = await refused_with(server.url, header + os.urandom(3000))
    assert error["type"] == "invalid_audio_type" and "1 Hz" in error["reason"]
    assert server.memory_mb()[1] < before + 5  # not a byte was upsampled (1 Hz → 16 kHz: 48 MB)


async def probe(url: str, seconds: float, gaps: list[float]) -> None:
    """A real-time session: 0.1 s chunks; how long each waited for its ``AudioAdded``."""
    async with connect(url) as ws:
        await ws.send(start_message())
        while (await recv_json(ws))["message"] != "RecognitionStarted":
            pass
        sent: dict[int, float] = {}

        async def acks(ws: ClientConnection) -> None:
            while len(gaps) < len(sent) or len(sent) < int(seconds * 10):
                msg = await recv_json(ws)
                if msg["message"] == "AudioAdded":
                    gaps.append(time.perf_counter() - sent[msg["seq_no"]])

        reader = asyncio.create_task(acks(ws))
        start = time.perf_counter()
        for k in range(1, int(seconds * 10) + 1):
            await asyncio.sleep(max(0.0, start + k * 0.1 - time.perf_counter()))
            sent[k] = time.perf_counter()
            await ws.send(bytes(3200))
        await asyncio.wait_for(reader, 30)


async def test_a_16_mib_frame_at_8_khz_decodes_off_the_loop_within_bounds(
    server: ServeProcess,
) -> None:
    gaps: list[float] = []
    watcher = asyncio.create_task(probe(server.url, 4.0, gaps))
    await asyncio.sleep(0.5)
    async with connect(server.url, max_size=None, compression=None) as bomb:
        await bomb.send(start_message(type="raw", encoding="mulaw", sample_rate=8000))
        while (await recv_json(bomb))["message"] != "RecognitionStarted":
            pass
        await bomb.send(os.urandom(16 * 2**20))  # 35 minutes of noise in one frame
        await asyncio.sleep(3.0)  # decoding, and the recognizer working through it
        peak = server.memory_mb()[1]
    await watcher
    assert peak < BOMB_MEMORY_MB, peak
    assert max(gaps) < STALL_BOUND, sorted(gaps)[-5:]


async def test_json_nested_5000_deep_is_invalid_message_in_one_log_line(
    server: ServeProcess,
) -> None:
    lines = len(server.log().splitlines())
    async with connect(server.url) as ws:
        await recv_json(ws)
        await ws.send("[" * 5000 + "]" * 5000)
        error = await recv_json(ws)
    assert error["type"] == "invalid_message" and "nested too deeply" in error["reason"]
    await asyncio.sleep(0.2)
    new = server.log().splitlines()[lines:]
    assert len([line for line in new if "invalid_message" in line]) == 1, new
    assert not [line for line in new if "Traceback" in line or "recursion" in line.lower()]
    assert json.dumps(error)  # and the reply itself is plain JSON
