"""One session's recognizer handle: its calls, and its errors when the worker fails."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal

import numpy as np
import pytest

from smnb.exceptions import EngineWorkerError
from smnb.server.engine.pool import EnginePool
from smnb.server.recognizer import RecognizerSettings

# Imported by its full name: worker processes unpickle the factories by that name.
engine_helpers = importlib.import_module("tests.support.engine_helpers")


def pcm(seconds: float) -> bytes:
    return np.zeros(round(seconds * 16000), dtype="<i2").tobytes()


async def test_odd_byte_count_is_rejected_before_reaching_the_worker() -> None:
    async with EnginePool(factory=engine_helpers.counting, prewarm=None) as pool:
        handle = await pool.open(RecognizerSettings())
        with pytest.raises(ValueError, match="even"):
            await handle.feed(b"\x00\x01\x02")
        assert (await handle.feed(pcm(0.5))).processed_until == 0.5
        await handle.close()


async def test_a_killed_worker_raises_a_clear_error_not_a_hang() -> None:
    async with EnginePool(factory=engine_helpers.counting, prewarm=None) as pool:
        handle = await pool.open(RecognizerSettings())
        assert handle.pid is not None
        os.kill(handle.pid, signal.SIGKILL)
        with pytest.raises(EngineWorkerError, match=r"killed by signal 9 during feed"):
            await asyncio.wait_for(handle.feed(pcm(0.1)), 5)
        with pytest.raises(EngineWorkerError):
            await asyncio.wait_for(handle.finish(), 5)
        await handle.close()  # cleans up without raising
        fresh = await pool.open(RecognizerSettings())  # the pool carries on
        assert (await fresh.feed(pcm(1.0))).processed_until == 1.0
        await fresh.close()


async def test_a_failing_recognizer_surfaces_its_traceback() -> None:
    async with EnginePool(factory=engine_helpers.failing, prewarm=None) as pool:
        handle = await pool.open(RecognizerSettings())
        pid = handle.pid
        with pytest.raises(EngineWorkerError, match="ValueError: cannot decode 1600 samples"):
            await handle.feed(pcm(0.1))
        await handle.close()
        assert pid not in pool.worker_pids  # a worker whose recognizer failed is retired
