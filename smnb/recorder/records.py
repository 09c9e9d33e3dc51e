"""An append-only, timestamped log of everything a session sent and received.

The transport calls ``record_*`` on the hot path, so a record is one small
slotted object appended to a list: no pandas, no copying of audio. Tables are
built later, on demand, by :mod:`smnb.tables`. Subscribers (a live widget, the
JSONL writer) are called synchronously after each append; a subscriber that
raises is logged (once per subscriber, one line) and remembered in
:attr:`Recorder.callback_errors`, never allowed to break the session.

The JSONL form (one record per line, :mod:`smnb.recorder.jsonl`) is the
durable artefact: every table can be rebuilt from it alone.

A record is scrubbed as it is stored (:func:`scrubbed`): the server's free text
(an ``Error`` reason echoing the key, a bad frame) never reaches a table, a
notebook display or an export, whichever way the records are shown.

Stdlib only.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from smnb.clock import Clock, monotonic
from smnb.protocol.messages import Message
from smnb.recorder.sanitize import one_line, sanitize

logger = logging.getLogger(__name__)

SENT = "sent"
RECEIVED = "recv"
META = "meta"

OUTCOME = "ClientError"
"""The meta kind of a session's one terminal error (``error`` class name, ``message``),
written once, by the transport runner, when the session fails."""
PROBLEM = "Problem"
"""The meta kind of a problem the session survived (``error``, ``message``, e.g. a
malformed server ``frame``): listed on the Result, never the session's outcome."""
RECONNECT = "Reconnect"
"""The meta kind of a session moving to a new connection after a drop: ``gap_s``,
``old_session_id``, ``new_session_id``, ``audio_offset`` (where the new session's
audio clock starts on the original one), ``resent_frames``, ``attempts``, ``code``,
``reason``. Recorded right after the new ``RecognitionStarted``; every server time
after it is ``audio_offset`` seconds behind the original audio clock."""


@dataclass(slots=True)
class Record:
    """One thing that happened, at ``t`` seconds on the recorder's clock.

    ``direction`` is ``"sent"``, ``"recv"`` or ``"meta"`` (smnb's own notes:
    session settings, the close, a client-side error). Audio frames are stored
    without their bytes: ``seq_no``, ``nbytes``, the span of audio they carry
    (``audio_start``/``audio_end``, seconds) and when the pacer scheduled them.
    """

    i: int
    t: float
    direction: str
    type: str
    payload: Message | None = None
    seq_no: int | None = None
    nbytes: int | None = None
    audio_start: float | None = None
    audio_end: float | None = None
    scheduled_t: float | None = None
    channel: str | None = None


Subscriber = Callable[[Record], None]

BULK_SERVER_MESSAGES = frozenset(
    {"AudioAdded", "ChannelAudioAdded", "AddPartialTranscript", "AddTranscript"}
)
"""Acknowledgements and transcripts: most of a log, and unable to echo our credentials,
so kept as received (scrubbing them would also blank words such as "basic" or "token")."""


def scrubbed(record: Record) -> Record:
    """``record`` as it may be stored or written: credentials removed where they could be."""
    if record.payload is None or (
        record.direction == RECEIVED and record.type in BULK_SERVER_MESSAGES
    ):
        return record
    clean = sanitize(record.payload)
    return record if clean == record.payload else dataclasses.replace(record, payload=clean)


class Recorder:
    """The log of one session.

    Args:
        clock: monotonic seconds; record times are relative to its value when
            the recorder was created.
    """

    def __init__(self, clock: Clock = monotonic) -> None:
        self.clock = clock
        self.origin = clock()
        self.records: list[Record] = []
        self.callback_errors: list[BaseException] = []
        self._subscribers: list[Subscriber] = []
        self._failed: list[Subscriber] = []  # already logged: a dead sink fails every record
        # Appends happen on the session's loop; readers (widgets, tables) may be
        # on another thread and take snapshots under this lock.
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the recorder was created, on its clock."""
        return self.clock() - self.origin

    # --- recording ----------------------------------------------------------

    def record_sent(self, msg: Message, *, t: float | None = None) -> Record:
        """A JSON message we sent."""
        seq = msg.get("last_seq_no") if isinstance(msg.get("last_seq_no"), int) else None
        return self._append(
            Record(0, self.now() if t is None else t, SENT, str(msg["message"]), msg, seq_no=seq)
        )

    def record_audio(
        self,
        seq_no: int,
        nbytes: int,
        audio_start: float,
        audio_end: float,
        *,
        scheduled_t: float,
        t: float | None = None,
        channel: str | None = None,
    ) -> Record:
        """An audio frame we sent (binary ``AddAudio`` or ``AddChannelAudio``)."""
        kind = "AddChannelAudio" if channel is not None else "AddAudio"
        return self._append(
            Record(
                0,
                self.now() if t is None else t,
                SENT,
                kind,
                None,
                seq_no=seq_no,
                nbytes=nbytes,
                audio_start=audio_start,
                audio_end=audio_end,
                scheduled_t=scheduled_t,
                channel=channel,
            )
        )

    def record_received(self, msg: Message, t: float) -> Record:
        """A server message, with ``t`` taken when the frame arrived (before parsing)."""
        seq = msg.get("seq_no") if isinstance(msg.get("seq_no"), int) else None
        channel = msg.get("channel") if isinstance(msg.get("channel"), str) else None
        return self._append(
            Record(0, t, RECEIVED, str(msg["message"]), msg, seq_no=seq, channel=channel)
        )

    def record_meta(
        self, kind: str, payload: Message | None = None, *, t: float | None = None
    ) -> Record:
        """A note of smnb's own: ``Session``, ``Closed``, ``ClientError``, ``Problem``, …"""
        return self._append(Record(0, self.now() if t is None else t, META, kind, payload))

    def _append(self, record: Record) -> Record:
        record = scrubbed(record)
        with self._lock:
            record.i = len(self.records)
            self.records.append(record)
        for callback in tuple(self._subscribers):
            try:
                callback(record)
            except Exception as exc:  # a broken display must not end the session
                self.callback_errors.append(exc)
                if callback not in self._failed:
                    self._failed.append(callback)
                    logger.error(
                        "recorder subscriber %r failed: %s: %s (not logged again)",
                        callback,
                        type(exc).__name__,
                        one_line(exc),
                    )
                    logger.debug("recorder subscriber %r failed", callback, exc_info=exc)
        return record

    # --- observing ------------------------------------------------------------

    def subscribe(self, callback: Subscriber, *, replay: bool = False) -> Callable[[], None]:
        """Call ``callback(record)`` after every append; returns an unsubscribe function.

        With ``replay=True`` the records so far are passed first.
        """
        if replay:
            for record in self.snapshot():
                callback(record)
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def snapshot(self) -> list[Record]:
        """A consistent copy of the records so far (safe from any thread)."""
        with self._lock:
            return list(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.snapshot())

    @classmethod
    def from_records(cls, records: Iterable[Record]) -> Recorder:
        """A recorder holding already-recorded records (a log read back from disk)."""
        rec = cls(clock=lambda: 0.0)
        rec.records = [scrubbed(r) for r in records]  # an old log, a SaaS recording
        return rec
