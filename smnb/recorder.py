"""An append-only, timestamped log of everything a session sent and received.

The transport calls ``record_*`` on the hot path, so a record is one small
slotted object appended to a list: no pandas, no copying of audio. Tables are
built later, on demand, by :mod:`smnb.tables`. Subscribers (a live widget, the
JSONL writer) are called synchronously after each append; a subscriber that
raises is logged and remembered in :attr:`Recorder.callback_errors`, never
allowed to break the session.

The JSONL form (one record per line) is the durable artefact: every table can
be rebuilt from it alone (:func:`read_jsonl`).

Stdlib only.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from smnb.clock import Clock, monotonic
from smnb.protocol.messages import Message

logger = logging.getLogger(__name__)

SENT = "sent"
RECEIVED = "recv"
META = "meta"


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

    def to_json(self) -> str:
        """One JSONL line (without the newline)."""
        obj: dict[str, Any] = {"i": self.i, "t": round(self.t, 6), "dir": self.direction}
        obj["type"] = self.type
        for key in ("seq_no", "nbytes", "channel"):
            value = getattr(self, key)
            if value is not None:
                obj[key] = value
        for key in ("audio_start", "audio_end", "scheduled_t"):
            value = getattr(self, key)
            if value is not None:
                obj[key] = round(value, 6)
        if self.payload is not None:
            obj["payload"] = self.payload
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Record:
        """Parse one JSONL line written by :meth:`to_json`."""
        obj = json.loads(line)
        return cls(
            i=int(obj["i"]),
            t=float(obj["t"]),
            direction=str(obj["dir"]),
            type=str(obj["type"]),
            payload=obj.get("payload"),
            seq_no=obj.get("seq_no"),
            nbytes=obj.get("nbytes"),
            audio_start=obj.get("audio_start"),
            audio_end=obj.get("audio_end"),
            scheduled_t=obj.get("scheduled_t"),
            channel=obj.get("channel"),
        )


Subscriber = Callable[[Record], None]


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

    def record_meta(self, kind: str, payload: Message | None = None) -> Record:
        """A note of smnb's own: ``Session``, ``Closed``, ``ClientError``, …"""
        return self._append(Record(0, self.now(), META, kind, payload))

    def _append(self, record: Record) -> Record:
        with self._lock:
            record.i = len(self.records)
            self.records.append(record)
        for callback in tuple(self._subscribers):
            try:
                callback(record)
            except Exception as exc:  # a broken display must not end the session
                logger.exception("recorder subscriber %r failed", callback)
                self.callback_errors.append(exc)
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
        """A recorder holding already-recorded records (for :func:`read_jsonl`)."""
        rec = cls(clock=lambda: 0.0)
        rec.records = list(records)
        return rec


class JsonlWriter:
    """A subscriber that appends each record to a JSONL file as it happens.

    Each line is flushed at once, so a crash or a dropped connection leaves
    everything received so far on disk.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = self.path.open("w", encoding="utf-8")

    def __call__(self, record: Record) -> None:
        if self._file is None:
            return
        self._file.write(record.to_json() + "\n")
        self._file.flush()

    def write_all(self, records: Iterable[Record]) -> None:
        """Write records recorded before this writer subscribed."""
        for record in records:
            self(record)

    def close(self) -> None:
        """Close the file; later records are ignored."""
        if self._file is not None:
            self._file.close()
            self._file = None


def read_jsonl(path: str | Path) -> Recorder:
    """Rebuild a recorder from a ``messages.jsonl`` file.

    A truncated last line (the process died mid-write) is skipped.
    """
    records = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                records.append(Record.from_json(line))
            except (ValueError, KeyError):
                logger.warning("skipping unreadable line in %s", path)
    return Recorder.from_records(records)
