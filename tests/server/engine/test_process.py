"""One worker process from the server's side: started by name, watched, always reaped."""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from smnb.server.engine.process import EngineWorkerError, WorkerProcess
from smnb.server.recognizer import RecognizerSettings

engine_helpers = importlib.import_module("tests.support.engine_helpers")

REPO = Path(__file__).resolve().parents[3]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")  # a zombie still answers kill(0)
    return not stat.exists() or stat.read_text().split()[2] != "Z"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").exists() else -1


async def started() -> WorkerProcess:
    worker = await asyncio.to_thread(WorkerProcess, (engine_helpers.counting, None))
    await worker.ready()
    return worker


async def test_a_worker_runs_commands_and_stop_leaves_nothing_behind() -> None:
    fds = open_fds()
    worker = await started()
    await worker.call("open", RecognizerSettings())
    update = await worker.call("feed", bytes(32000))
    assert update.processed_until == 1.0
    cpu_seconds, audio_seconds, wall_seconds = await worker.call("close")
    assert audio_seconds == 1.0 and cpu_seconds >= 0 and wall_seconds > 0
    await asyncio.to_thread(worker.stop)
    assert not alive(worker.pid)
    assert open_fds() == fds


async def test_an_idle_worker_that_dies_is_noticed_at_once() -> None:
    worker = await started()
    died = asyncio.Event()
    worker.watch(lambda w: died.set())
    os.kill(worker.pid, signal.SIGKILL)
    await asyncio.wait_for(died.wait(), 5)
    worker.unwatch()
    assert "killed by signal 9" in worker.describe_exit()
    await asyncio.to_thread(worker.stop)


async def test_hooks_from_main_are_refused_with_a_reason() -> None:
    def local(settings: RecognizerSettings) -> object:
        return engine_helpers.counting(settings)

    local.__module__ = "__main__"
    with pytest.raises(EngineWorkerError, match="defined in __main__"):
        WorkerProcess((local, None))  # type: ignore[arg-type]


OWNER = textwrap.dedent(
    """
    import asyncio, importlib, sys
    from smnb.server.engine.pool import EnginePool
    from smnb.server.recognizer import RecognizerSettings
    helpers = importlib.import_module("tests.support.engine_helpers")

    async def main():
        pool = EnginePool(factory=helpers.counting, prewarm=None, idle_workers=2)
        await pool.__aenter__()
        await pool.open(RecognizerSettings())
        print(" ".join(map(str, pool.worker_pids)), flush=True)
        if sys.argv[1] == "hang":
            await asyncio.sleep(60)
    asyncio.run(main())  # the pool is never closed
    """
)


@pytest.mark.parametrize("how", ["exit", "hang"])
def test_no_worker_outlives_its_server_process(how: str) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, how],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    pids = [int(p) for p in owner.stdout.readline().split()]
    assert len(pids) >= 2
    if how == "hang":  # killed outright: no atexit, the workers see end of file
        owner.send_signal(signal.SIGKILL)
    assert owner.wait(30) in (0, -signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)]
