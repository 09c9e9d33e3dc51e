"""Running the planned sessions of a sweep: in process, through an executor, or a hook.

:func:`run_in_process` runs one session with the client on the current loop;
:func:`run_session_blocking` is what executors receive (picklable, self-contained).
:func:`run_all` runs the specs ``concurrency`` at a time, in run order, with a progress line
(:mod:`~smnb.experiment.progress`);
:func:`warmups` runs the untimed warm-up sessions; :func:`endpoint` starts one embedded
local server for the whole sweep when there is neither a URL nor an API key.

A session that fails, or a hook that raises, becomes a ``failed`` outcome: nothing is lost.

With :mod:`~smnb.experiment.runner`, the only experiment modules that import asyncio and the
client (``smnb.session``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from smnb.auth import find_api_key, rt_url
from smnb.exceptions import SessionError, SmnbError
from smnb.experiment.outcome import FAILED, OK, WARMUP, SessionOutcome
from smnb.experiment.plan import SessionSpec
from smnb.experiment.progress import Progress

RunSession = Callable[[SessionSpec], Awaitable[SessionOutcome]]
"""The hook that runs one session: ``async (spec) -> SessionOutcome``."""


class Submitter(Protocol):
    """What ``executor=`` needs: ``submit(fn, *args)`` returning an object with ``result()``."""

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Any: ...


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


def runner(executor: Submitter | None, hook: RunSession | None, api_key: str | None) -> RunSession:
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


def runner_name(executor: Submitter | None, hook: RunSession | None) -> str:
    if hook is not None:
        return f"run_session={getattr(hook, '__qualname__', type(hook).__name__)}"
    if executor is not None:
        return f"executor={type(executor).__module__}.{type(executor).__qualname__}"
    return "in-process asyncio"


@contextlib.asynccontextmanager
async def given_endpoint(url: str | None) -> AsyncIterator[tuple[str | None, str]]:
    yield url, "given" if url is not None else "hook"


@contextlib.asynccontextmanager
async def endpoint(
    url: str | None, api_key: str | None, *, remote: bool, workers: int = 1
) -> AsyncIterator[tuple[str | None, str]]:
    """(url for the specs, endpoint kind); the embedded local server when there is no endpoint."""
    if url is not None:
        yield url, "given"
        return
    if find_api_key(api_key) is not None:
        # Executors get the SaaS URL explicitly: a worker without a key must fail, not
        # quietly fall back to its own embedded server.
        yield (rt_url() if remote else None), "saas"
        return
    from smnb.session import embedded  # loads the recognizer stack only when needed

    # The process's one embedded server, shared with transcribe/start/live: started once (so
    # model loading is charged to no setting), kept warm with one recognizer per concurrent
    # session between sessions; the parallel warm-up sessions start exactly those.
    server = embedded.shared()
    local = await server.aurl()
    server.reserve(workers)
    yield local, "local"


async def _guarded(run: RunSession, spec: SessionSpec) -> SessionOutcome:
    try:
        return await run(spec)
    except Exception as exc:  # a broken hook or worker must not lose the session
        return SessionOutcome(spec, FAILED, f"{type(exc).__name__}: {exc}")


async def warmups(
    first: SessionSpec, run: RunSession, out: str | Path | None, n: int, *, trim: bool = False
) -> list[SessionOutcome]:
    """``n`` untimed sessions at once: as many warm recognizers/connections as will be used.

    They stream as fast as the server takes the audio (``pace="fast"``), and with ``trim``
    (sessions run in this process) and ``out`` only the first :data:`WARMUP_SECONDS` of it
    (a copy in ``out/sessions``; executors and hooks get the file as it is): they are there
    to load models and open connections, and nothing of them is measured, so a whole
    long-form stream would only lengthen the sweep.
    """
    if trim and out is not None:
        first = dataclasses.replace(first, file=str(_trimmed(first.file, Path(out) / "sessions")))
    specs = []
    for k in range(n):
        sid = warmup_id(k)
        folder = str(Path(out) / "sessions" / sid) if out is not None else None
        specs.append(
            dataclasses.replace(
                first, session_id=sid, order=-1 - k, repeat=-1, out_dir=folder, pace="fast"
            )
        )
    outcomes = await asyncio.gather(*(_guarded(run, spec) for spec in specs))
    return [dataclasses.replace(o, status=WARMUP if o.status == OK else FAILED) for o in outcomes]


def warmup_id(k: int) -> str:
    """The session id of the ``k``-th (from 0) warm-up session."""
    return f"warmup-{k + 1}"


WARMUP_SECONDS = 3.0
"""Audio a warm-up session streams: enough to load a recognizer and decode some speech."""


def _trimmed(source: str, folder: Path) -> Path:
    """The first :data:`WARMUP_SECONDS` of ``source`` as a 16 kHz mono WAV in ``folder``."""
    from smnb.audio.decode import SAMPLE_RATE, decode_file

    audio = decode_file(source, sample_rate=SAMPLE_RATE)
    samples = audio.samples[: round(WARMUP_SECONDS * SAMPLE_RATE), 0]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "warmup-audio.wav"
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(SAMPLE_RATE)
        fh.writeframes(samples.astype("<i2").tobytes())
    return path


async def run_all(
    specs: Sequence[SessionSpec],
    run: RunSession,
    concurrency: int,
    progress: Progress | None = None,
) -> list[SessionOutcome]:
    """Run ``specs`` in order, ``concurrency`` at a time; one outcome per spec, in order."""
    line = progress if progress is not None else Progress(len(specs), enabled=False)
    line.running()
    done: dict[int, SessionOutcome] = {}
    pending = iter(specs)

    async def worker() -> None:
        for spec in pending:  # one shared iterator: sessions start in run order
            done[spec.order] = outcome = await _guarded(run, spec)
            line.update(spec.session_id, outcome.error if outcome.status == FAILED else None)

    try:
        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(specs)))))
    finally:
        line.close()
    return [done[s.order] for s in specs]
