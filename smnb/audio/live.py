"""The thread-fed live source: blocks captured on another thread → ``chunks()``.

A live source (the local microphone, the browser microphone) receives 16-bit
mono PCM on a thread it does not own: PortAudio's callback thread, a kernel comm
handler. :class:`LiveSource` is the one implementation of the hand-over: the
feeding thread calls :meth:`LiveSource.feed`, which never touches asyncio
objects directly but schedules the block on the session loop with
``loop.call_soon_threadsafe``; blocks fed before ``chunks()`` starts are kept
and delivered first. ``chunks()`` turns blocks into consecutive
:class:`~smnb.audio.sources.Chunk` objects (optionally cut at ``max_seconds``)
until the stream is ended: :meth:`stop` from any thread, or :meth:`end_soon`
with a grace delay, or :meth:`end_now` on the loop.

Subclasses open and close their device around the iteration with
:meth:`LiveSource._open` and :meth:`LiveSource._close`.

Must not import: websockets, pandas, ipywidgets, anything from ``smnb.session``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from smnb.audio.sources import Chunk
from smnb.clock import Clock, monotonic

logger = logging.getLogger(__name__)

_END = object()  # queued to end the stream


class LiveSource:
    """A live AudioSource (``live=True``) of 16-bit mono PCM fed from another thread.

    Args:
        sample_rate: samples per second of the fed blocks.
        chunk_seconds: the nominal length of one chunk (what the feeder delivers).
        max_seconds: end by itself after this much audio (``None``: until stopped).
        name: shown in the ``Session`` note.
        clock: monotonic seconds for ``Chunk.captured_t`` when the feeder gives none.
    """

    live = True

    def __init__(
        self,
        *,
        sample_rate: int,
        chunk_seconds: float,
        max_seconds: float | None = None,
        name: str = "live audio",
        clock: Clock = monotonic,
    ) -> None:
        self.sample_rate = sample_rate
        self.chunk_seconds = chunk_seconds
        self.max_seconds = max_seconds
        self.name = name
        self.audio_format: dict[str, Any] = {
            "type": "raw",
            "encoding": "pcm_s16le",
            "sample_rate": sample_rate,
        }
        self.seconds_captured = 0.0
        self.chunks_delivered = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Any] | None = None
        self._pending: list[Any] = []  # fed before chunks() started
        self._stopped = False

    # --- the feeding side (any thread) -------------------------------------------

    def feed(self, data: bytes, captured_t: float | None = None) -> None:
        """Hand one block of PCM to the session (thread-safe, returns at once)."""
        self._put((data, self._clock() if captured_t is None else captured_t))

    def finish(self) -> None:
        """The feeder has no more audio (thread-safe): end after what was fed."""
        self._put(_END)

    def stop(self) -> None:
        """End the stream gracefully (thread-safe): what was fed before is still sent."""
        self.end_soon(0.0)

    @property
    def started(self) -> bool:
        """True once ``chunks()`` is being consumed."""
        with self._lock:
            return self._loop is not None

    def end_soon(self, delay: float) -> None:
        """End the stream ``delay`` seconds from now (thread-safe); blocks fed meanwhile count.

        Before ``chunks()`` has started, the stream ends as soon as it starts.
        """
        with self._lock:
            self._stopped = True
            loop, queue = self._loop, self._queue
        if loop is None or queue is None:
            return
        with contextlib.suppress(RuntimeError):  # loop closed: the stream is over already
            if delay > 0:
                loop.call_soon_threadsafe(loop.call_later, delay, queue.put_nowait, _END)
            else:
                loop.call_soon_threadsafe(queue.put_nowait, _END)

    def end_now(self) -> None:
        """End the stream at once; call on the session loop."""
        with self._lock:
            self._stopped = True
            queue = self._queue
        if queue is not None:
            queue.put_nowait(_END)

    def _put(self, item: Any) -> None:
        with self._lock:
            loop, queue = self._loop, self._queue
            if loop is None or queue is None:
                self._pending.append(item)  # the session has not started consuming yet
                return
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the session loop is gone: nobody is listening any more
            logger.debug("%s: audio after the session ended was dropped", self.name)

    # --- hooks for the device ------------------------------------------------------

    def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start capturing (called on the loop once ``chunks()`` runs, unless stopped)."""

    def _close(self) -> None:
        """Stop capturing (called when ``chunks()`` ends, however it ends)."""

    # --- the AudioSource contract --------------------------------------------------

    async def chunks(self) -> AsyncIterator[Chunk]:
        """Yield what is fed, as consecutive chunks, until the stream is ended."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        with self._lock:
            for item in self._pending:
                queue.put_nowait(item)
            self._pending.clear()
            self._loop, self._queue = loop, queue
            stopped = self._stopped
        if stopped:
            queue.put_nowait(_END)
        limit = None if self.max_seconds is None else round(self.max_seconds * self.sample_rate)
        samples = 0
        try:
            if not stopped:
                self._open(loop)
            while limit is None or samples < limit:
                item = await queue.get()
                if item is _END:
                    break
                data, captured = item
                n = len(data) // 2
                if limit is not None and samples + n > limit:
                    n = limit - samples
                    data = data[: 2 * n]
                self.chunks_delivered += 1
                yield Chunk(
                    data,
                    samples / self.sample_rate,
                    (samples + n) / self.sample_rate,
                    captured_t=captured,
                )
                samples += n
                self.seconds_captured = samples / self.sample_rate
        finally:
            self._close()
