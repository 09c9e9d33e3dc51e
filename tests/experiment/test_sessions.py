"""smnb.experiment.sessions: sessions handed to executors (concurrent.futures, dask-like)."""

from __future__ import annotations

import concurrent.futures
import os
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


def test_a_real_dask_cluster_runs_the_sessions_in_its_worker_processes(
    clips: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor seam against dask.distributed itself: a LocalCluster of two worker
    processes streams the sessions (to this process's embedded server), and the sweep
    comes back with exactly the tables of the same sweep run locally."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)
    settings: dict[str, Any] = dict(
        max_delay=[1, 2], concurrency=2, warmup=False, progress=False, n_resamples=20
    )
    local = smnb.sweep(clips, **settings)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster, timeout=60) as client,
        distributed.get_task_stream(client) as stream,
    ):
        pids = client.run(os.getpid)  # worker address → its process id
        remote = smnb.sweep(clips, executor=client, **settings)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    ran_on = {task["worker"] for task in stream.data if "run_session_blocking" in task["key"]}
    assert ran_on == set(pids)  # the sessions spread over both worker processes
    assert remote.manifest["runner"] == "executor=distributed.client.Client"
    assert (remote.sessions["status"] == "ok").all(), remote.sessions[["session_id", "error"]]
    assert sorted(remote.results) == sorted(local.results)  # the same sessions, ids and all
    for name in ("summary", "sessions", "latency", "displayed", "eou"):
        mine, theirs = getattr(remote, name), getattr(local, name)
        assert list(mine.columns) == list(theirs.columns), name
        assert dict(mine.dtypes.astype(str)) == dict(theirs.dtypes.astype(str)), name
    assert len(remote.sessions) == len(local.sessions) == 4
    assert remote.summary["max_delay"].tolist() == local.summary["max_delay"].tolist()
    for sid, result in remote.results.items():  # each log came back whole, as JSONL text
        assert result.completed and len(result.words) > 0, sid
        assert list(result.words.columns) == list(local.results[sid].words.columns)
