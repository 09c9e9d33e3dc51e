"""Hostile and broken clients: idle, flooding, and gone without a goodbye at every step."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.server.faults.conftest import IDLE_TIMEOUT, Baseline
from tests.support.server_process import ServeProcess, pcm_of, recv_json, start_message

AUDIO = pcm_of("librispeech-1988-24833-0000")


async def test_a_client_that_sends_nothing_is_warned_then_ended(server: ServeProcess) -> None:
    started = time.monotonic()
    async with connect(server.url) as ws:
        await ws.send(start_message())
        msgs = []
        with pytest.raises(ConnectionClosed):
            while True:
                msgs.append(await recv_json(ws, timeout=IDLE_TIMEOUT + 5))
    took = time.monotonic() - started
    assert [(m["message"], m.get("type")) for m in msgs[-2:]] == [
        ("Warning", "idle_timeout"),
        ("Error", "idle_timeout"),
    ]
    assert ws.close_code == 1008
    assert IDLE_TIMEOUT - 0.5 < took < IDLE_TIMEOUT + 3


async def test_a_flooding_client_is_held_back_and_others_go_on(server: ServeProcess) -> None:
    rss_before = server.memory_mb()[0]
    flooder = await connect(server.url, max_size=None, compression=None)
    await flooder.send(start_message())
    stop = asyncio.Event()

    async def flood() -> int:  # as fast as TCP lets it, never reading a reply
        sent = 0
        with contextlib.suppress(ConnectionClosed):
            while not stop.is_set():
                await flooder.send(AUDIO[:65536])
                sent += 1
        return sent

    flooding = asyncio.create_task(flood())
    await asyncio.sleep(0.5)
    async with connect(server.url) as other:  # a live session meanwhile: acks within bound
        await other.send(start_message())
        while (await recv_json(other))["message"] != "RecognitionStarted":
            pass
        worst = 0.0
        for k in range(1, 16):
            sent = time.perf_counter()
            await other.send(AUDIO[k * 3200 : (k + 1) * 3200])
            while (await recv_json(other))["message"] != "AudioAdded":
                pass
            worst = max(worst, time.perf_counter() - sent)
            await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - sent)))
    rss_during = server.memory_mb()[0]
    stop.set()
    reset_ws(flooder)  # and vanishes, its frames still queued
    assert await asyncio.wait_for(flooding, 30) > 10
    # The flooder's recognizer takes a whole CPU (audio far faster than real time): the
    # other session shares the CPUs with it, but the server itself never holds it up.
    assert worst < 1.5, worst
    assert rss_during < rss_before + 150, (rss_before, rss_during)  # a few queued frames


async def _raw_handshake(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"GET /v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await asyncio.to_thread(sock.recv, 4096)
    return sock


def reset(sock: socket.socket) -> None:
    """Vanish: RST, no close frame, no FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def reset_ws(ws: ClientConnection) -> None:
    reset(ws.transport.get_extra_info("socket").dup())
    ws.transport.abort()


async def until(ws: ClientConnection, kind: str) -> None:
    while (await recv_json(ws))["message"] != kind:
        pass


async def vanish_at(url: str, state: str) -> None:
    port = int(url.split(":")[2].split("/")[0])
    if state == "mid-handshake":
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr")
        await asyncio.sleep(0.1)
        reset(sock)
        return
    if state == "mid-frame":  # a frame header announcing 1 MiB, then 10 bytes of it
        sock = await _raw_handshake(port)
        sock.sendall(b"\x82\xff" + struct.pack(">Q", 1 << 20) + b"\x00" * 4 + b"x" * 10)
        await asyncio.sleep(0.2)
        reset(sock)
        return
    ws = await connect(url)
    await recv_json(ws)  # Info: the session is waiting for StartRecognition
    if state != "waiting":
        await ws.send(start_message())
        if state != "opening":
            await until(ws, "RecognitionStarted")
            for i in range(0, 32000, 3200):
                await ws.send(AUDIO[i : i + 3200])
            if state != "running":
                await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": 10}))
                if state == "finished":
                    await until(ws, "EndOfTranscript")
    reset_ws(ws)


STATES = ["mid-handshake", "waiting", "opening", "running", "mid-frame", "finishing", "finished"]


async def test_clients_vanishing_at_every_protocol_state_leave_nothing_behind(
    server: ServeProcess, baseline: Baseline
) -> None:
    for state in STATES:
        await vanish_at(server.url, state)
        workers = await asyncio.to_thread(server.wait_for_workers, baseline.workers, 20)
        assert len(workers) == baseline.workers, (state, workers)
        deadline = time.monotonic() + 10
        while server.fds() > baseline.fds and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert server.fds() <= baseline.fds, state
    # …and the autouse check runs a normal session on the server they left behind
