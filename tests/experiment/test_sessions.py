"""smnb.experiment.sessions: sessions handed to executors (concurrent.futures, dask-like)."""

from __future__ import annotations

import concurrent.futures
import pickle
from pathlib import Path
from typing import Any

import pytest

import smnb
import smnb.experiment.runner
import smnb.experiment.sessions
from smnb.experiment import SessionOutcome, SessionSpec
from smnb.experiment.runner import asweep
from tests.support.sweeps import fake_session


@pytest.fixture
def fake_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    async def run(spec: SessionSpec, *, api_key: str | None = None) -> SessionOutcome:
        return await fake_session(spec)

    monkeypatch.setattr(smnb.experiment.sessions, "run_in_process", run)


class DaskLike:
    """An executor whose futures are not concurrent.futures (like dask.distributed)."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, fn: Any, *args: Any) -> Any:
        self.submitted.append(args[0].session_id)
        shipped = pickle.dumps((fn, args))  # as if it crossed a process boundary

        class Future:
            def result(self) -> Any:  # runs on whichever thread waits, like a remote worker
                fn, args = pickle.loads(shipped)
                return pickle.loads(pickle.dumps(fn(*args)))

        return Future()


@pytest.mark.usefixtures("fake_in_process")
async def test_concurrent_futures_executor(clips: list[Path]) -> None:
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        r = await asweep(clips, max_delay=[1, 4], executor=pool, progress=False, warmup=False,
                         url="ws://127.0.0.1:1/v2", n_resamples=10)  # fmt: skip
    assert r.summary["final_p50"].tolist() == pytest.approx([0.5, 2.0])
    assert r.manifest["runner"] == "executor=concurrent.futures.thread.ThreadPoolExecutor"


@pytest.mark.usefixtures("fake_in_process")
async def test_dask_like_executor_gets_picklable_specs(clips: list[Path]) -> None:
    pool = DaskLike()
    r = await asweep(clips, max_delay=[2], executor=pool, progress=False, warmup=False,
                     url="ws://127.0.0.1:1/v2", n_resamples=10)  # fmt: skip
    assert sorted(pool.submitted) == sorted(o.spec.session_id for o in r.outcomes)
    assert r.summary["final_p50"].tolist() == [1.0]
