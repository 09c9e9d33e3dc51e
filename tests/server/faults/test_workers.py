"""Engine workers killed outright (SIGKILL): idle ones cost nothing, a busy one its session."""

from __future__ import annotations

import asyncio
import json
import os
import signal

from websockets.asyncio.client import connect

from tests.server.faults.conftest import NORMAL, Baseline, normal_session_ok
from tests.support.server_process import ServeProcess, pcm_of, recv_json, start_message


async def test_killed_idle_workers_are_replaced_without_costing_a_session(
    server: ServeProcess, baseline: Baseline
) -> None:
    spares = server.workers()
    for pid in spares:
        os.kill(pid, signal.SIGKILL)
    await asyncio.to_thread(normal_session_ok, server)  # at once, while they are replaced
    replaced = await asyncio.to_thread(server.wait_for_workers, baseline.workers)
    assert len(replaced) == baseline.workers and not replaced & spares
    log = server.log()  # noticed idle, or found dead when picked: either way, no cost
    assert "replacing it" in log or "before its session opened; using another" in log


async def test_a_killed_busy_worker_fails_only_its_own_session(server: ServeProcess) -> None:
    pcm = pcm_of(NORMAL)
    async with connect(server.url) as ws:
        await ws.send(start_message())
        while (await recv_json(ws))["message"] != "RecognitionStarted":
            pass
        await ws.send(pcm[:16000])
        await asyncio.sleep(0.3)
        for pid in server.workers():  # its worker among them (the spares are replaced)
            os.kill(pid, signal.SIGKILL)
        for i in range(16000, len(pcm), 3200):
            await ws.send(pcm[i : i + 3200])
        await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": 0}))
        while (msg := await recv_json(ws))["message"] not in ("Error", "EndOfTranscript"):
            pass
        error = msg
    assert error["message"] == "Error" and error["type"] == "job_error", error
    assert "killed by signal 9" in error["reason"]
    assert ws.close_code == 4013
