"""What survives a dropped connection: the audio still owed, and when to try again.

A session whose connection drops mid-stream (an abnormal close or a network
error, never a server ``Error``) continues on a new connection with the same
``StartRecognition`` (:class:`~smnb.session.transport.SessionRunner`). This module
holds the two pieces that make that possible:

- :class:`AudioQueue` sits between the audio source and the connections. A reader
  task pulls chunks from the source into a small bounded queue, so a connection
  that ends never cancels the source mid-chunk (a live source keeps capturing into
  its own buffer during the gap). Every chunk sent is kept until a final covers it;
  :meth:`AudioQueue.rewind` puts those chunks first in line for the next connection
  and returns the audio offset the new session's times start from.
- :func:`can_resume` decides whether a drop qualifies (the
  :class:`~smnb.session.options.ReconnectPolicy` says which closes, how many attempts
  and the backoff between them).

Why re-send from the last final rather than from the last acknowledgement: audio
the old server acknowledged but never finalised has no final anywhere; re-sending
it lets the new session finalise it, so no word is lost to the drop.

- :func:`reopen` makes the attempts; :class:`Gap` is one reconnection until the new
  session starts, and becomes its ``Reconnect`` note.

Must not import: pandas, :mod:`smnb.tables`, :mod:`smnb.result`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection

from smnb.audio.sources import AudioSource, Chunk
from smnb.exceptions import AudioError, ConnectionLost, SmnbError
from smnb.protocol.messages import Message
from smnb.protocol.session import ClientSession, SessionState
from smnb.recorder.sanitize import one_line, redact_url
from smnb.session.connect import open_connection
from smnb.session.failures import is_transient
from smnb.session.options import ReconnectPolicy

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

__all__ = ["PREFETCH", "RESEND_LIMIT_S", "AudioQueue", "Gap", "can_resume", "final_end", "reopen"]

RESEND_LIMIT_S = 60.0
"""Audio kept for re-sending at most: beyond it, acknowledged audio is let go."""

PREFETCH = 64
"""Chunks the reader may take from the source ahead of the connection, by default
(the transport passes its unacknowledged window, so ``fast`` pace can fill it at once)."""


@dataclass(slots=True)
class _Sent:
    chunk: Chunk
    connection: int
    seq: int


class AudioQueue:
    """The session's audio between the source and whichever connection is current.

    Args:
        chunks: the source's chunk iterator (read by one background task).
        prefetch: chunks read ahead at most.
        resend_limit: seconds of audio kept for re-sending at most.
    """

    def __init__(
        self,
        chunks: AsyncIterator[Chunk],
        *,
        prefetch: int = PREFETCH,
        resend_limit: float = RESEND_LIMIT_S,
    ) -> None:
        self._chunks = chunks
        self._queue: asyncio.Queue[Chunk | BaseException | None] = asyncio.Queue(prefetch)
        self._reader: asyncio.Task[None] | None = None
        self._outbox: deque[Chunk] = deque()
        self._kept: deque[_Sent] = deque()
        self._final_end: dict[str | None, float] = {}
        self._ended = False
        self.resend_limit = resend_limit
        self.sent_until = 0.0
        """The end of the latest audio sent, on the original audio clock."""

    # --- the source side -----------------------------------------------------------

    def start(self) -> None:
        """Start reading the source (on the session's loop)."""
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(
                self._read(), name="smnb-audio-reader"
            )

    async def _read(self) -> None:
        try:
            while True:
                try:
                    chunk: Chunk = await anext(self._chunks)
                except StopAsyncIteration:
                    await self._queue.put(None)
                    return
                await self._queue.put(chunk)
        except asyncio.CancelledError:
            raise
        except SmnbError as exc:
            await self._queue.put(exc)
        except Exception as exc:
            await self._queue.put(AudioError(f"the audio source failed: {exc}"))

    async def next(self) -> Chunk | None:
        """The next chunk to send on the current connection (``None``: the audio ended).

        Cancel-safe: a chunk taken stays first in line until :meth:`sent` is called.

        Raises:
            AudioError: the source failed.
        """
        if self._outbox:
            return self._outbox[0]
        if self._ended:
            return None
        item = await self._queue.get()
        if item is None:
            self._ended = True
            return None
        if isinstance(item, BaseException):
            self._ended = True
            raise item
        self._outbox.append(item)
        return item

    def sent(self, chunk: Chunk, *, connection: int, seq: int) -> None:
        """``chunk`` (the one :meth:`next` returned) went out as frame ``seq``."""
        if self._outbox and self._outbox[0] is chunk:
            self._outbox.popleft()
        self._kept.append(_Sent(chunk, connection, seq))
        self.sent_until = max(self.sent_until, chunk.audio_end)

    # --- what the server confirmed ---------------------------------------------------

    def finalised(
        self,
        channel: str | None,
        end: float,
        *,
        acked: Mapping[str | None, int],
        connection: int,
    ) -> None:
        """A final reached ``end`` (original clock) on ``channel``: audio before it is done.

        ``acked`` is the current connection's highest acknowledged frame per channel
        (``None``: a single stream); beyond :attr:`resend_limit`, acknowledged audio is
        let go even without a final.
        """
        if end > self._final_end.get(channel, -1.0):
            self._final_end[channel] = end
        done = min(self._final_end.values()) if self._final_end else -1.0
        kept = self._kept
        while kept and kept[0].chunk.audio_end <= done:
            kept.popleft()
        while kept and self.sent_until - kept[0].chunk.audio_start > self.resend_limit:
            oldest = kept[0]
            if oldest.connection == connection and oldest.seq > acked.get(oldest.chunk.channel, 0):
                break  # never let go of audio the server may not have received
            kept.popleft()

    def channel_seen(self, channel: str) -> None:
        """A channel that has sent audio counts in the final boundary from now on."""
        self._final_end.setdefault(channel, -1.0)

    # --- a new connection --------------------------------------------------------------

    def rewind(self) -> tuple[float, int]:
        """Queue every kept chunk again, first; returns (audio offset, chunks re-queued).

        The offset is where the new session's audio clock starts on the original one.
        """
        resend = [s.chunk for s in self._kept]
        self._kept.clear()
        pending = list(self._outbox)
        self._outbox = deque([*resend, *pending])
        offset = self._outbox[0].audio_start if self._outbox else self.sent_until
        return offset, len(resend)

    async def aclose(self) -> None:
        """Stop the reader and release the source (file handle, device) now."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()


# --- deciding and reconnecting --------------------------------------------------------


def can_resume(
    session: ClientSession,
    policy: ReconnectPolicy | None,
    source: AudioSource,
    reconnections: int,
) -> bool:
    """Whether ``session`` ended in a drop a new connection can repair."""
    error = session.error
    if policy is None or session.state is not SessionState.FAILED:
        return False
    if not isinstance(error, ConnectionLost) or not policy.qualifies(error.code):
        return False  # a server Error, or a deliberate close
    if source.audio_format.get("type") == "file":
        logger.warning("%s; an encoded file cannot be resumed mid-stream", error)
        return False
    if reconnections >= policy.limit:
        logger.warning("%s; not reconnecting again (%d times already)", error, policy.limit)
        return False
    return True


@dataclass(slots=True)
class Gap:
    """One reconnection, from the drop until the new session starts."""

    t: float
    """When the old connection dropped (recorder time)."""
    reason: str
    code: int | None
    old_session_id: str | None
    attempts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def after(cls, session: ClientSession, t: float) -> Gap:
        error = session.error
        code = int(error.code) if isinstance(error, ConnectionLost) and error.code else None
        return cls(t, one_line(error, limit=1000), code, session.session_id)

    def note(self, session_id: str | None, offset: float, resent: int, t: float) -> Message:
        """The ``Reconnect`` note: the gap, both session ids, the audio offset."""
        return {
            "gap_s": round(t - self.t, 6),
            "old_session_id": self.old_session_id,
            "new_session_id": session_id,
            "audio_offset": round(offset, 6),
            "resent_frames": resent,
            "attempts": self.attempts,
            "code": self.code,
            "reason": self.reason,
        }


async def reopen(
    url: str,
    headers: Mapping[str, str],
    *,
    timeout: float | None,
    policy: ReconnectPolicy,
    renew: Callable[[], Awaitable[Mapping[str, str]]] | None,
    dropped: BaseException | None,
) -> tuple[ClientConnection, int]:
    """A new connection to ``url`` after ``dropped``; returns it and the attempts made.

    Waits as :meth:`ReconnectPolicy.delays` says between attempts; a failure that
    retrying cannot fix (a refused key, a wrong path, an unknown host) stops early.

    Raises:
        ConnectionLost: every attempt failed (the drop and the last failure, in one line).
    """
    last: SmnbError | None = None
    attempts = 0
    for delay in policy.delays():
        if delay:
            await asyncio.sleep(delay)
        attempts += 1
        try:
            fresh = await renew() if renew is not None else headers
            return await open_connection(url, fresh, timeout=timeout), attempts
        except SmnbError as exc:
            last = exc
            logger.info("reconnection attempt %d to %s failed: %s", attempts, url, exc)
            if not is_transient(exc):
                break
    code = dropped.code if isinstance(dropped, ConnectionLost) else None
    raise ConnectionLost(
        f"{dropped}; reconnecting to {redact_url(url)} failed "
        f"({attempts} attempt{'s' if attempts != 1 else ''}): {last}",
        code=code,
        reason=dropped.reason if isinstance(dropped, ConnectionLost) else "",
    ) from last


def final_end(msg: Message) -> float | None:
    """Where an ``AddTranscript`` ends on its session's clock (metadata, else its results)."""
    meta = msg.get("metadata")
    end = meta.get("end_time") if isinstance(meta, dict) else None
    if isinstance(end, int | float) and not isinstance(end, bool):
        return float(end)
    ends = [
        r["end_time"]
        for r in msg.get("results") or []
        if isinstance(r, dict) and isinstance(r.get("end_time"), int | float)
    ]
    return float(max(ends)) if ends else None
