"""The embedded local server (smnb.session.embedded): one per process, shared by every
entry point, started on first use, stopped at interpreter exit.

These run the real default engine (pocketsphinx worker processes) and count the
process's children with psutil; timings are printed by benchmarks/embedded_server.py,
never asserted here.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

import smnb
from smnb.session import embedded
from tests.support.client import tone_server, tone_wav

SAMPLES = Path(__file__).resolve().parents[2] / "smnb" / "samples"
CLIP = SAMPLES / "librivox-ss01-0880.wav"  # 3 s of speech


@pytest.fixture(autouse=True)
def no_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)


@pytest.fixture
def fresh() -> Iterator[None]:
    embedded.close()
    yield
    embedded.close()


def children() -> set[int]:
    """Every live process below this one (worker processes hang under a forkserver)."""
    return {p.pid for p in psutil.Process().children(recursive=True) if p.is_running()}


def url_of(result: Any) -> str:
    note = result.recorder.records[0].payload
    assert note["embedded_server"] is True
    return str(note["url"])


def test_every_entry_point_shares_one_server_and_its_processes(fresh: None) -> None:
    before = children()
    first = smnb.transcribe(CLIP, pace="fast", timeout=120)
    started = children() - before
    assert first.completed and started  # the server's recognizer processes
    url = url_of(first)

    again = smnb.transcribe(CLIP, pace="fast")
    assert url_of(again) == url and children() - before == started  # no new process

    awaited = asyncio.run(smnb.atranscribe(CLIP, pace="fast"))
    assert url_of(awaited) == url  # another event loop, the same server

    in_thread: list[Any] = []
    worker = threading.Thread(target=lambda: in_thread.append(smnb.transcribe(CLIP, pace="fast")))
    worker.start()
    worker.join(120)
    assert url_of(in_thread[0]) == url

    handle = smnb.start(CLIP, pace="fast")
    assert url_of(handle.wait(120)) == url

    view = smnb.live(CLIP, pace="fast", display=False)
    assert url_of(view.transcription.wait(120)) == url

    swept = smnb.sweep([CLIP], max_delay=[2], warmup=False, progress=False, n_resamples=10)
    assert swept.manifest["server"] == {"endpoint": "local", "url": url}
    (one,) = swept.results.values()  # the sweep hands its sessions the server's URL
    assert one.completed and one.recorder.records[0].payload["url"] == url
    assert children() - before == started  # still the same processes, none added

    workers = [psutil.Process(p) for p in started if not _helper(p)]
    assert workers  # the recognizers, not multiprocessing's own helpers
    embedded.close()  # what atexit does: the server and its workers stop
    _, alive = psutil.wait_procs(workers, 15)
    assert alive == []


def _helper(pid: int) -> bool:
    """multiprocessing's forkserver or resource tracker (our direct children, one per
    interpreter), not a worker (forked from the forkserver, its cmdline looks the same)."""
    try:
        process = psutil.Process(pid)
        cmdline, parent = " ".join(process.cmdline()), process.ppid()
    except psutil.NoSuchProcess:
        return False
    helper = any(f"multiprocessing.{m}" in cmdline for m in ("forkserver", "resource_tracker"))
    return helper and parent == os.getpid()


def test_a_given_url_never_starts_the_embedded_server(fresh: None, tmp_path: Path) -> None:
    tones = tone_wav(tmp_path / "tones.wav")

    async def main() -> smnb.Result:
        async with tone_server() as url:
            return await smnb.atranscribe(tones, url=url, pace="fast")

    result = asyncio.run(main())
    assert result.completed and result.recorder.records[0].payload["embedded_server"] is False
    assert not embedded.shared().running


SCRIPT = """
import json, sys, psutil, smnb
a = smnb.transcribe(sys.argv[1], pace="fast", timeout=120)
b = smnb.transcribe(sys.argv[1], pace="fast")
kids = [p.pid for p in psutil.Process().children(recursive=True)]
print(json.dumps({"kids": kids, "same": a.url == b.url, "text": bool(b.text)}), flush=True)
"""


def test_a_script_leaves_no_worker_process_behind() -> None:
    # `python -c`: the script has no __main__ file for workers to re-import.
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(CLIP)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["same"] and report["text"] and report["kids"]
    leftovers = [p for p in report["kids"] if _alive(p)]
    assert leftovers == []  # stopped at exit, not orphaned


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_sweep_on_a_slow_machine_is_never_refused_by_its_own_server(fresh: None) -> None:
    """Where the measured real-time capacity is below a sweep's concurrency, the embedded
    server still admits every session the sweep runs at once (reserve), instead of
    refusing some with quota_exceeded."""
    server = embedded.shared()
    server.url(timeout=120)
    pool = server._engine
    cost = pool._model.cost
    pool._model.calibrated(10.0)  # as if decoding cost 10 CPU s per audio s here
    try:
        assert pool.capacity == 1
        clips = [CLIP, SAMPLES / "librivox-ss01-0870.wav"]
        swept = smnb.sweep(clips, max_delay=[2], concurrency=2, pace="fast", warmup=False,
                           progress=False, n_resamples=10)  # fmt: skip
        assert swept.sessions["status"].tolist() == ["ok", "ok"], swept.sessions["error"].tolist()
        assert pool.capacity == 2
    finally:  # the process remembers a learnt cost: later servers must not start from 10
        pool._model.calibrated(cost if cost is not None else 0.2)
