"""Run a latency/accuracy sweep: every (file × setting × repeat) session, then analyse.

::

    result = smnb.sweep(["a.wav", "b.wav"], max_delay=[0.7, 1, 2, 4], repeats=3, out="runs/md")
    result.summary                          # one row per max_delay
    result.plot_ecdf()

    # in a notebook cell (keeps the kernel's loop free):
    result = await smnb.asweep(files, max_delay=[1, 2], max_delay_mode=["fixed", "flexible"])

Any ``transcription_config`` field given a list is swept (lists of several fields form a
grid); a scalar is fixed for every session. Sessions stream at real-time pace, at most
``concurrency`` at once, in a seeded block-randomised order (:mod:`smnb.experiment.plan`).
With neither ``url`` nor an API key, one embedded local server serves the whole sweep
(started once, so model loading is not charged to one setting); with a key, the SaaS.

A failed session is kept: its row says ``failed`` with the error, its log is kept, and it
is excluded from metrics. Analysis starts only after the last session ends, so metric
work never competes for CPU with sessions still streaming.

**Scaling out.** ``executor=`` takes anything with ``submit(fn, *args)`` returning a
future (``concurrent.futures`` executors, ``dask.distributed.Client``,
``client.get_executor()``…): each session becomes ``submit(run_session_blocking, spec)``.
``run_session=`` takes ``async (SessionSpec) -> SessionOutcome`` for anything else (a Ray
task, a job queue). Workers never receive the API key: they read
``SPEECHMATICS_API_KEY`` from their own environment. See ``docs/experiments.md``.

This is the only experiment module that imports asyncio and the client (``smnb.session``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from smnb.auth import find_api_key, rt_url
from smnb.exceptions import AudioError, ConfigError, SessionError, SmnbError
from smnb.experiment.inputs import RefInput, manifest, resolve_references
from smnb.experiment.outcome import FAILED, OK, WARMUP, SessionOutcome
from smnb.experiment.plan import SessionSpec, as_list, grid, labels, plan, split_fields
from smnb.experiment.result import SweepResult
from smnb.metrics.stats import DEFAULT_RESAMPLES
from smnb.session.sync import run_sync

__all__ = [
    "RunSession",
    "SessionOutcome",
    "SessionSpec",
    "SweepResult",
    "asweep",
    "run_session_blocking",
    "sweep",
]

RunSession = Callable[[SessionSpec], Awaitable[SessionOutcome]]
"""The hook that runs one session: ``async (spec) -> SessionOutcome``."""


class Submitter(Protocol):
    """What ``executor=`` needs: ``submit(fn, *args)`` returning an object with ``result()``."""

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any: ...


def sweep(
    sources: str | Path | Sequence[str | Path],
    **kwargs: Any,
) -> SweepResult:
    """Run a sweep and return its :class:`~smnb.experiment.SweepResult` (blocking).

    Same arguments as :func:`asweep`. Inside a running event loop (a Jupyter cell) the
    sweep runs on a private event-loop thread; ``await asweep(...)`` avoids blocking.
    """
    return run_sync(functools.partial(asweep, sources, **kwargs), name="smnb-sweep")


async def asweep(
    sources: str | Path | Sequence[str | Path],
    *,
    references: Sequence[RefInput] | bool | None = None,
    word_timings: Sequence[str | Path | None] | None = None,
    repeats: int = 1,
    concurrency: int = 3,
    seed: int = 0,
    bootstrap_seed: int = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
    out: str | Path | None = None,
    url: str | None = None,
    api_key: str | None = None,
    pace: str = "realtime",
    warmup: bool = True,
    progress: bool = True,
    executor: Submitter | None = None,
    run_session: RunSession | None = None,
    config: dict[str, Any] | None = None,
    **fields: Any,
) -> SweepResult:
    """Run every (file × setting × repeat) session and analyse them.

    Args:
        sources: audio file path(s).
        references: per-file reference ``.txt`` paths or :class:`~smnb.metrics.Reference`
            objects; default ``<stem>.txt`` beside each file; ``False`` for none.
        word_timings: per-file ``.words.json`` paths; default ``<stem>.words.json``.
        repeats: sessions per (file, setting).
        concurrency: sessions streaming at once.
        seed: run-order seed. ``bootstrap_seed``/``n_resamples``: confidence intervals.
        out: directory for logs, CSVs, plots and the manifest (nothing written if None).
        url, api_key: the endpoint; neither means one embedded local server.
        pace: ``"realtime"`` (latency numbers need it) or ``"fast"``.
        warmup: first run ``concurrency`` untimed sessions at once (the smallest file; kept,
            marked ``warmup``, excluded from metrics), so every recognizer and connection the
            timed sessions use is warm.
        progress: show a tqdm progress bar (``tqdm.auto``: a widget in notebooks).
        executor / run_session: hand sessions to another executor (module docstring).
        config: fixed ``transcription_config`` fields (same as scalar keywords).
        **fields: ``transcription_config`` fields; a list is swept, a scalar is fixed.

    Raises:
        AudioError: an audio file does not exist (before anything runs).
        ConfigError: nothing to sweep over or bad sweep arguments.
    """
    files = as_list(sources)
    for f in files:
        if not Path(f).is_file():
            raise AudioError(f"audio file not found: {f}")
    if concurrency < 1:
        raise ConfigError("concurrency must be at least 1")
    if executor is not None and run_session is not None:
        raise ConfigError("give executor= or run_session=, not both")
    try:
        swept, fixed = split_fields(fields)
        refs = resolve_references(files, labels(files), references, word_timings)
    except (ValueError, FileNotFoundError) as exc:
        raise ConfigError(str(exc)) from exc
    fixed = {**(config or {}), **fixed}
    specs = plan(
        files, grid(swept), repeats=repeats, seed=seed, base_config=fixed, out=out, pace=pace
    )

    # A run_session hook gets exactly the url given; the built-in runners get an endpoint.
    endpoint_cm = (
        _given(url)
        if run_session is not None
        else _endpoint(url, api_key, remote=executor is not None, workers=concurrency, warm=warmup)
    )
    async with endpoint_cm as (resolved, endpoint):
        specs = [dataclasses.replace(s, url=resolved) for s in specs]
        run = _runner(executor, run_session, api_key)
        info = manifest(
            specs, swept=swept, fixed=fixed, references=refs, seed=seed,
            bootstrap_seed=bootstrap_seed, n_resamples=n_resamples, repeats=repeats,
            concurrency=concurrency, url=resolved, endpoint=endpoint, pace=pace,
            warmup=warmup, runner=_runner_name(executor, run_session),
        )  # fmt: skip
        outcomes: list[SessionOutcome] = []
        if warmup:  # the smallest file is enough to load models and warm connections
            smallest = min(specs, key=lambda s: (Path(s.file).stat().st_size, s.order))
            outcomes += await _warmups(smallest, run, out, min(concurrency, len(specs)))
        outcomes += await _run_all(specs, run, concurrency, progress)
    # Analysis is CPU work: off the event loop, so a notebook stays responsive.
    result = await asyncio.to_thread(
        SweepResult, outcomes, refs, info, seed=bootstrap_seed, n_resamples=n_resamples
    )
    if out is not None:
        await asyncio.to_thread(result.save, out)
    return result


async def run_in_process(spec: SessionSpec, *, api_key: str | None = None) -> SessionOutcome:
    """Run one session on the current loop with :func:`smnb.atranscribe`; never raises
    for a failed session (it becomes a ``failed`` outcome carrying what was received)."""
    from smnb.audio.pacing import check_pace
    from smnb.session.run import atranscribe

    try:
        result = await atranscribe(
            spec.file, url=spec.url, api_key=api_key, pace=check_pace(spec.pace),
            out=spec.out_dir, **spec.config,
        )  # fmt: skip
    except SessionError as exc:
        return SessionOutcome(spec, FAILED, f"{type(exc).__name__}: {exc}", result=exc.result)
    except SmnbError as exc:  # bad settings or audio: nothing was sent
        return SessionOutcome(spec, FAILED, f"{type(exc).__name__}: {exc}")
    return SessionOutcome(spec, OK, result=result)


def run_session_blocking(spec: SessionSpec) -> SessionOutcome:
    """Run one session to the end in this thread (what executors are handed).

    Picklable and self-contained: safe to ship to a process pool or a cluster worker.
    The worker's own ``SPEECHMATICS_API_KEY`` is used (keys are never shipped).
    """
    return asyncio.run(run_in_process(spec))


def _runner(executor: Submitter | None, hook: RunSession | None, api_key: str | None) -> RunSession:
    if hook is not None:
        return hook
    if executor is None:
        return lambda spec: run_in_process(spec, api_key=api_key)

    async def via_executor(spec: SessionSpec) -> SessionOutcome:
        future = executor.submit(run_session_blocking, spec)
        if isinstance(future, concurrent.futures.Future):
            outcome: SessionOutcome = await asyncio.wrap_future(future)
        else:  # dask and friends: a future with a blocking result()
            outcome = await asyncio.to_thread(future.result)
        return outcome

    return via_executor


def _runner_name(executor: Submitter | None, hook: RunSession | None) -> str:
    if hook is not None:
        return f"run_session={getattr(hook, '__qualname__', type(hook).__name__)}"
    if executor is not None:
        return f"executor={type(executor).__module__}.{type(executor).__qualname__}"
    return "in-process asyncio"


@contextlib.asynccontextmanager
async def _given(url: str | None) -> AsyncIterator[tuple[str | None, str]]:
    yield url, "given" if url is not None else "hook"


@contextlib.asynccontextmanager
async def _endpoint(
    url: str | None, api_key: str | None, *, remote: bool, workers: int = 1, warm: bool = True
) -> AsyncIterator[tuple[str | None, str]]:
    """(url for the specs, endpoint kind); starts one local server when there is no endpoint."""
    if url is not None:
        yield url, "given"
        return
    if find_api_key(api_key) is not None:
        # Executors get the SaaS URL explicitly: a worker without a key must fail, not
        # quietly fall back to its own embedded server.
        yield (rt_url() if remote else None), "saas"
        return
    from smnb.server import serve  # loads the recognizer stack only when needed
    from smnb.server.engine.pool import EnginePool

    def engine() -> EnginePool:
        # Keep one recognizer process per concurrent session between sessions, and start no
        # spares while sessions run: a process starting (and loading its model) mid-stream
        # costs CPU that is charged to the sessions streaming at that moment. The parallel
        # warm-up sessions start exactly the processes the timed sessions will reuse.
        return EnginePool(idle_workers=0 if warm else 1, max_idle=workers)

    async with serve(engine_factory=engine) as local:
        yield local, "local"


async def _guarded(run: RunSession, spec: SessionSpec) -> SessionOutcome:
    try:
        return await run(spec)
    except Exception as exc:  # a broken hook or worker must not lose the session
        return SessionOutcome(spec, FAILED, f"{type(exc).__name__}: {exc}")


async def _warmups(
    first: SessionSpec, run: RunSession, out: str | Path | None, n: int
) -> list[SessionOutcome]:
    """``n`` untimed sessions at once: as many warm recognizers/connections as will be used."""
    specs = []
    for k in range(n):
        sid = f"warmup-{k + 1}"
        folder = str(Path(out) / "sessions" / sid) if out is not None else None
        specs.append(
            dataclasses.replace(first, session_id=sid, order=-1 - k, repeat=-1, out_dir=folder)
        )
    outcomes = await asyncio.gather(*(_guarded(run, spec) for spec in specs))
    return [dataclasses.replace(o, status=WARMUP if o.status == OK else FAILED) for o in outcomes]


async def _run_all(
    specs: Sequence[SessionSpec], run: RunSession, concurrency: int, progress: bool
) -> list[SessionOutcome]:
    """Run ``specs`` in order, ``concurrency`` at a time; one outcome per spec, in order."""
    bar = _progress(len(specs), progress)
    done: dict[int, SessionOutcome] = {}
    pending = iter(specs)

    async def worker() -> None:
        for spec in pending:  # one shared iterator: sessions start in run order
            done[spec.order] = outcome = await _guarded(run, spec)
            failed = sum(o.status == FAILED for o in done.values())
            bar.set_postfix(failed=failed, refresh=False)
            bar.update(1)
            if outcome.status == FAILED:
                bar.write(f"smnb sweep: {spec.session_id} failed: {outcome.error}")

    try:
        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(specs)))))
    finally:
        bar.close()
    return [done[s.order] for s in specs]


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="sweep", unit="session", disable=not enabled)
