"""The fault suite: one real ``smnb serve`` (real engine) that every test tries to hurt.

After every test the server must be back where it started: the same number of worker
processes (all alive), no more open files, memory near its baseline, nothing in its
log that looks like a crash, and a normal session must still transcribe a real
recording correctly. Loopback only; every test is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jiwer
import pytest

from tests.support.server_process import SAMPLES, ServeProcess, transcribe

if not Path("/proc/self/status").exists():  # pragma: no cover - macOS
    pytest.skip("the fault suite measures the server through /proc", allow_module_level=True)

CAPACITY = 3
SPARES = 2
IDLE_TIMEOUT = 3.0
NORMAL = "librispeech-1988-24833-0000"
MEMORY_SLACK_MB = 80.0
"""Resident memory the server may keep above its baseline after a fault (allocator
caches, websockets buffers); a leak of decoded audio would be hundreds of MB."""


@dataclass
class Baseline:
    workers: int
    fds: int
    rss_mb: float


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    log = tmp_path_factory.mktemp("faults") / "server.log"
    args = ("--capacity", str(CAPACITY), "--spare-workers", str(SPARES))
    proc = ServeProcess(*args, "--idle-timeout", str(IDLE_TIMEOUT), log_path=log)
    try:
        proc.wait_for_workers(SPARES)
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="package")
def baseline(server: ServeProcess) -> Baseline:
    asyncio.run(transcribe(server.url, NORMAL))  # warm: buffers, imports, a used worker
    workers = server.wait_for_workers(SPARES)
    time.sleep(0.3)
    return Baseline(len(workers), server.fds(), server.memory_mb()[0])


def normal_session_ok(server: ServeProcess) -> None:
    text = asyncio.run(transcribe(server.url, NORMAL))
    reference = (SAMPLES / f"{NORMAL}.txt").read_text().strip()
    assert jiwer.wer(reference, text.lower().replace(".", "").strip()) < 0.5, text


def recovered(server: ServeProcess, baseline: Baseline) -> None:
    """The server is back at its baseline and serves a normal session correctly."""
    assert server.proc.poll() is None, server.log()[-3000:]
    workers = server.wait_for_workers(baseline.workers)
    assert len(workers) == baseline.workers, (workers, server.log()[-3000:])
    deadline = time.monotonic() + 10
    while server.fds() > baseline.fds and time.monotonic() < deadline:
        time.sleep(0.1)  # closing sockets and reaping workers take a moment
    assert server.fds() <= baseline.fds, server.log()[-2000:]
    rss, _ = server.memory_mb()
    assert rss < baseline.rss_mb + MEMORY_SLACK_MB, (rss, baseline.rss_mb)
    log = server.log()
    assert "Traceback" not in log and "internal error" not in log, log[-3000:]
    normal_session_ok(server)


@pytest.fixture(autouse=True)
def must_recover(server: ServeProcess, baseline: Baseline) -> Iterator[None]:
    yield
    recovered(server, baseline)
