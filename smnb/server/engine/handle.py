"""One session's recognizer, living in an engine worker process.

:class:`RecognizerHandle` is what :meth:`smnb.server.engine.pool.EnginePool.open`
returns: ``feed``, ``force_end_of_utterance``, ``finish``, ``speakers``, ``reconfigure``,
``close``. Calls on one handle run one at a time. A worker that dies makes every pending
and later call raise :class:`~smnb.exceptions.EngineWorkerError` at once; a recognizer
that raises makes the call raise it with the remote traceback.

Must not import: websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Protocol

from smnb.exceptions import EngineWorkerError
from smnb.server.engine.process import WorkerProcess
from smnb.server.recognizer import MaxDelayMode, Update


class Owner(Protocol):
    """The pool a handle gives its worker back to."""

    def session_ended(self, outcome: object) -> None: ...
    async def release(self, worker: WorkerProcess) -> None: ...


class RecognizerHandle:
    """One session's recognizer, living in a worker process."""

    def __init__(self, pool: Owner, worker: WorkerProcess) -> None:
        self._pool = pool
        self._worker: WorkerProcess | None = worker
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        """The worker's process id (None once closed)."""
        return None if self._worker is None else self._worker.pid

    async def feed(self, pcm: bytes) -> Update:
        """Decode more audio: 16 kHz mono int16 little-endian bytes."""
        if len(pcm) % 2:
            raise ValueError("pcm must hold whole int16 samples (an even number of bytes)")
        update: Update = await self._call("feed", bytes(pcm))
        return update

    async def force_end_of_utterance(self) -> Update:
        update: Update = await self._call("force_end_of_utterance")
        return update

    async def finish(self) -> Update:
        update: Update = await self._call("finish")
        return update

    async def speakers(self) -> dict[str, list[str]]:
        speakers: dict[str, list[str]] = await self._call("speakers")
        return speakers

    async def reconfigure(self, max_delay: float, max_delay_mode: MaxDelayMode) -> None:
        """New ``max_delay`` / ``max_delay_mode`` for the words not yet final."""
        await self._call("reconfigure", (max_delay, max_delay_mode))

    async def close(self) -> None:
        """End the session; the worker goes back to the pool (or is retired). Idempotent."""
        async with self._lock:
            worker, self._worker = self._worker, None
            if worker is None:
                return
            if worker.healthy:
                with contextlib.suppress(EngineWorkerError):
                    self._pool.session_ended(await worker.call("close"))
            await self._pool.release(worker)

    async def _call(self, command: str, argument: object = None) -> Any:
        async with self._lock:
            if self._worker is None:
                raise EngineWorkerError("the recognizer handle is closed")
            return await self._worker.call(command, argument)
