"""EnginePool: recognizers in real worker processes, driven from asyncio."""

from __future__ import annotations

import asyncio
import importlib
import math
import multiprocessing
import os
import signal
import time
from pathlib import Path

import jiwer
import numpy as np
import pytest
import soundfile

from smnb.exceptions import EngineWorkerError
from smnb.server.engine.capacity import REALTIME_OVERHEAD, UTILISATION, usable_cpus
from smnb.server.engine.pool import STOP_TIMEOUT, EngineAtCapacity, EnginePool
from smnb.server.recognizer import RecognizerSettings, Update, Word

# Imported by its full name: worker processes unpickle the factories by that name.
engine_helpers = importlib.import_module("tests.support.engine_helpers")

SAMPLES = Path(__file__).resolve().parents[3] / "smnb" / "samples"


def pcm(seconds: float) -> bytes:
    return np.zeros(round(seconds * 16000), dtype="<i2").tobytes()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes once reaped.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


async def test_cheap_recognizer_round_trip_and_worker_reuse() -> None:
    async with EnginePool(max_workers=2, factory=engine_helpers.counting, prewarm=None) as pool:
        handle = await pool.open(RecognizerSettings())
        first_pid = handle.pid
        update = await handle.feed(pcm(2.5))
        assert update.finals == (Word("word", 0.0, 0.5), Word("word", 1.0, 1.5))
        assert update.processed_until == 2.5
        assert (await handle.finish()).utterance_ends == (0.5,)
        assert await handle.speakers() == {"S1": [str(first_pid)]}
        await handle.close()
        await handle.close()  # idempotent
        with pytest.raises(EngineWorkerError, match="closed"):
            await handle.feed(pcm(0.1))
        again = await pool.open(RecognizerSettings())
        assert again.pid == first_pid  # the idle worker was reused
        await again.close()


async def test_no_orphan_processes_after_exit() -> None:
    async with EnginePool(max_workers=3, factory=engine_helpers.counting, prewarm=None) as pool:
        handles = [await pool.open(RecognizerSettings()) for _ in range(3)]
        pids = [h.pid for h in handles]
        assert len(set(pids)) == 3
        await handles[0].feed(pcm(0.2))
        # handles are left open on purpose: exiting the pool must still stop everything
    deadline = time.monotonic() + 5
    while any(alive(p) for p in pids if p) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not [p for p in pids if p and alive(p)]
    assert not [c for c in multiprocessing.active_children() if c.pid in pids]
    with pytest.raises(EngineWorkerError):
        await handles[1].feed(pcm(0.1))


async def test_open_waits_for_a_free_worker_at_capacity() -> None:
    async with EnginePool(max_workers=1, factory=engine_helpers.counting, prewarm=None) as pool:
        first = await pool.open(RecognizerSettings())
        waiting = asyncio.create_task(pool.open(RecognizerSettings()))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await first.close()
        second = await asyncio.wait_for(waiting, 5)
        await second.close()


def clip(name: str) -> np.ndarray:
    audio, rate = soundfile.read(SAMPLES / f"{name}.wav", dtype="int16")
    assert rate == 16000
    return np.asarray(audio)


async def transcribe(pool: EnginePool, name: str) -> tuple[str, int | None]:
    handle = await pool.open(RecognizerSettings(max_delay=1.0, max_delay_mode="fixed"))
    audio = clip(name)
    words: list[Word] = []
    for i in range(0, len(audio), 1600):
        update: Update = await handle.feed(audio[i : i + 1600].tobytes())
        words += update.finals
    words += (await handle.finish()).finals
    pid = handle.pid
    await handle.close()
    return " ".join(w.content for w in words), pid


@pytest.mark.slow
async def test_two_real_sessions_decode_concurrently_in_separate_workers() -> None:
    names = ["librispeech-1988-24833-0001", "librivox-ss01-0920"]
    async with EnginePool(max_workers=3) as pool:
        results = await asyncio.gather(*(transcribe(pool, n) for n in names))
        # a reused worker decodes the same audio to the same words (issue 10: engine truth)
        again, _ = await transcribe(pool, names[0])
        assert again == results[0][0]
    (text_a, pid_a), (text_b, pid_b) = results
    assert pid_a != pid_b
    for name, text in zip(names, (text_a, text_b), strict=True):
        reference = (SAMPLES / f"{name}.txt").read_text().strip()
        # Real pocketsphinx on real speech; cold decoders, so a loose bound.
        assert jiwer.wer(reference, text) < 0.5, (name, text)


async def test_closing_the_pool_fails_a_call_in_flight_promptly() -> None:
    pool = EnginePool(factory=engine_helpers.slow, prewarm=None)
    async with pool:
        handle = await pool.open(RecognizerSettings())
        call = asyncio.create_task(handle.feed(pcm(0.1)))
        await asyncio.sleep(0.2)
        started = time.monotonic()
    with pytest.raises(EngineWorkerError):
        await asyncio.wait_for(call, 10)
    assert time.monotonic() - started < STOP_TIMEOUT + 3


@pytest.mark.slow
async def test_real_time_finals_arrive_within_max_delay_of_the_spoken_word() -> None:
    max_delay, slack = 1.0, 0.25
    audio = clip("librivox-ss01-0870")
    latencies: list[float] = []
    async with EnginePool() as pool:
        handle = await pool.open(RecognizerSettings(max_delay=max_delay, max_delay_mode="fixed"))
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(0, len(audio), 800):  # 50 ms chunks at real-time pace
            await asyncio.sleep(max(0.0, start + (i + 800) / 16000 - loop.time()))
            update = await handle.feed(audio[i : i + 800].tobytes())
            latencies += [loop.time() - start - w.end_time for w in update.finals]
        await handle.finish()
        await handle.close()
    assert len(latencies) > 10
    assert max(latencies) <= max_delay + slack, sorted(latencies)[-5:]


async def test_the_cap_holds_when_many_sessions_open_at_once() -> None:
    async with EnginePool(
        factory=engine_helpers.counting, prewarm=None, capacity=3, queue_timeout=0
    ) as pool:
        results = await asyncio.gather(
            *(pool.open(RecognizerSettings()) for _ in range(8)), return_exceptions=True
        )
        handles = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(handles) == 3 and len(refused) == 5
        assert all(isinstance(r, EngineAtCapacity) for r in refused)
        assert "at capacity: 3 of 3" in str(refused[0])
        await asyncio.sleep(0.5)  # give any stray top-up the chance to show itself
        assert len(pool.worker_pids) == 3
        for handle in handles:
            await handle.close()
        assert len(pool.worker_pids) <= 3


async def test_at_capacity_open_refuses_at_once_or_after_queue_timeout() -> None:
    async with EnginePool(
        factory=engine_helpers.counting, prewarm=None, capacity=1, queue_timeout=0.3
    ) as pool:
        first = await pool.open(RecognizerSettings())
        started = time.monotonic()
        with pytest.raises(EngineAtCapacity, match="capacity"):
            await pool.open(RecognizerSettings())
        assert 0.25 < time.monotonic() - started < 2
        pool.queue_timeout = 0
        started = time.monotonic()
        with pytest.raises(EngineAtCapacity):
            await pool.open(RecognizerSettings())
        assert time.monotonic() - started < 0.1
        await first.close()


async def test_a_dead_idle_worker_is_replaced_and_costs_no_session() -> None:
    async with EnginePool(factory=engine_helpers.counting, prewarm=None, idle_workers=1) as pool:
        (spare,) = pool.worker_pids
        os.kill(spare, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while (spare in pool.worker_pids or not pool.worker_pids) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert pool.worker_pids and spare not in pool.worker_pids  # reaped and replaced
        assert not alive(spare)
        # A spare dying between being picked and opening: open takes another one.
        (spare,) = pool.worker_pids
        os.kill(spare, signal.SIGKILL)
        handle = await asyncio.wait_for(pool.open(RecognizerSettings()), 20)
        assert handle.pid != spare
        assert (await handle.feed(pcm(1.0))).processed_until == 1.0
        await handle.close()


async def test_measured_capacity_comes_from_the_recognizers_cpu_cost() -> None:
    async with EnginePool(
        factory=engine_helpers.burning, prewarm=None, capacity="measure", idle_workers=0
    ) as pool:
        cost = pool.cpu_per_audio_second
        fast = engine_helpers.BURN_CPU_PER_AUDIO_SECOND  # what the calibration decode costs
        assert cost == pytest.approx(fast * REALTIME_OVERHEAD, rel=0.5)
        assert pool.capacity == max(1, math.floor(usable_cpus() * UTILISATION / cost))
        assert "measured" in pool.describe()
        handle = await pool.open(RecognizerSettings())
        await handle.feed(pcm(3.0))
        await handle.close()  # 3 s of audio in a moment: not a real-time stream
        assert pool.cpu_per_audio_second == cost
