"""smnb.session.sync: one way to run a coroutine from sync code, with or without a loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from smnb.session.sync import LoopThread, run_sync


async def where() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


def test_without_a_loop_it_runs_one_in_this_thread() -> None:
    assert run_sync(where) == threading.current_thread().name


async def test_inside_a_running_loop_it_uses_a_private_loop_thread() -> None:
    loop = asyncio.get_running_loop()
    assert run_sync(where, name="smnb-private") == "smnb-private"
    assert asyncio.get_running_loop() is loop  # this loop was blocked, never re-entered


def test_errors_come_back_as_raised() -> None:
    async def fail() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        run_sync(fail)


def test_a_loop_thread_takes_calls_and_cancels_from_any_thread() -> None:
    started = threading.Event()
    calls: list[str] = []

    async def wait_forever() -> str:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            return "cancelled: " + ",".join(calls)
        return "slept"

    runner = LoopThread(wait_forever, name="smnb-test")
    assert started.wait(10)
    runner.call(lambda: calls.append(threading.current_thread().name))
    runner.cancel()
    assert runner.wait(10) == "cancelled: smnb-test"
    runner.call(lambda: calls.append("late"))  # after the end: ignored, never raises
    assert calls == ["smnb-test"]
