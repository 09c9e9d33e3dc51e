"""The one JSONL form of a session log (``messages.jsonl``): writing it, reading it back.

Every JSONL line smnb writes or reads passes through this module: the live
:class:`JsonlWriter` a session subscribes to its recorder, :func:`write_jsonl`
(``Result.to_csv``/``to_parquet``, sweep folders), :func:`to_text` (a session
log shipped from another process) and the readers :func:`read_jsonl` and
:func:`from_text`. One format, one scrubbing policy: our own messages, smnb's
notes and the server's free-text notices go through
:func:`smnb.recorder.sanitize.sanitize`; acknowledgements and transcripts (most
of the log, and unable to echo our credentials) are written as received.

Stdlib only.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from smnb.exceptions import LogError, LogNotFound
from smnb.recorder.records import Record, Recorder, scrubbed

logger = logging.getLogger(__name__)

LOG_NAME = "messages.jsonl"
"""The file name of a session's log inside its directory."""

__all__ = [
    "LOG_NAME",
    "JsonlWriter",
    "from_line",
    "from_text",
    "log_lines",
    "read_jsonl",
    "records_of",
    "scrubbed",
    "to_line",
    "to_text",
    "write_jsonl",
]


def to_line(record: Record) -> str:
    """One JSONL line (without the newline), exactly as given (see :func:`scrubbed`).

    Times are written in full (JSON's float form is the shortest that reads back to the
    same float), so a loaded log rebuilds tables identical to the live ones.
    """
    obj: dict[str, Any] = {"i": record.i, "t": record.t, "dir": record.direction}
    obj["type"] = record.type
    for key in ("seq_no", "nbytes", "channel"):
        value = getattr(record, key)
        if value is not None:
            obj[key] = value
    for key in ("audio_start", "audio_end", "scheduled_t"):
        value = getattr(record, key)
        if value is not None:
            obj[key] = value
    if record.payload is not None:
        obj["payload"] = record.payload
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def from_line(line: str) -> Record:
    """Parse one line written by :func:`to_line`.

    Raises:
        ValueError, KeyError, TypeError: the line is not a record.
    """
    obj = json.loads(line)
    return Record(
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


def to_text(records: Iterable[Record]) -> str:
    """The records as JSONL text (scrubbed), e.g. to ship a log between processes."""
    return "".join(to_line(scrubbed(r)) + "\n" for r in records)


def from_text(text: str, *, source: str = "text") -> Recorder:
    """A recorder rebuilt from JSONL text (see :func:`records_of` for bad lines)."""
    return Recorder.from_records(records_of(enumerate(text.split("\n"), start=1), source))


def read_jsonl(path: str | Path) -> Recorder:
    """Rebuild a recorder from a ``messages.jsonl`` file (see :func:`records_of`).

    Raises:
        LogNotFound: no file at ``path``.
        LogError: the file is not a log (not UTF-8 text, or its first line not a record).
    """
    return Recorder.from_records(records_of(log_lines(path), str(path)))


def log_lines(path: str | Path) -> Iterator[tuple[int, str | None]]:
    """The numbered non-blank lines of a log file, read lazily; None for a non-UTF-8 line.

    Lines are decoded one at a time, so a last line cut inside a character (the process
    died mid-write) costs that line only.

    Raises:
        LogNotFound: no file at ``path`` (when iteration starts).
    """
    path = Path(path)
    try:
        fh = path.open("rb")
    except (FileNotFoundError, NotADirectoryError):
        raise LogNotFound(f"no such file: {path}") from None
    except IsADirectoryError:
        raise LogNotFound(f"{path} is a directory, not a log file") from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                try:
                    yield number, raw.decode("utf-8")
                except UnicodeDecodeError:
                    yield number, None


def not_a_log(source: str, line: str | None) -> LogError:
    """The error for a file whose first line (``line``; None: not UTF-8) is no record."""
    why = "not UTF-8 text" if line is None else "its first line is not a JSON record"
    return LogError(f"{source} is not an smnb log or a SaaS recording ({why})")


def records_of(lines: Iterable[tuple[int, str | None]], source: str) -> list[Record]:
    """Records from numbered lines (None: undecodable); blank lines are skipped.

    The first line must be a record, or this is not a log at all (:class:`LogError`);
    after it, an unreadable line is skipped and logged with ``source`` and its number: a
    truncated last line (the process died mid-write) is the usual one.
    """
    records = []
    for number, line in lines:
        if line is not None and not line.strip():
            continue
        try:
            if line is None:
                raise ValueError("not UTF-8")
            records.append(from_line(line))
        except (ValueError, KeyError, TypeError):
            if not records:
                raise not_a_log(source, line) from None
            logger.warning("skipping unreadable line %d in %s", number, source)
    return records


def write_jsonl(records: Iterable[Record], path: str | Path) -> Path:
    """Write a whole log at once (scrubbed); the file appears complete or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(to_text(records), encoding="utf-8")
    os.replace(tmp, path)  # never leave a half-written log under the real name
    return path


FLUSH_INTERVAL = 0.1
"""Seconds a written line may wait for its flush while records keep arriving."""

_BATCH = 512
"""Records formatted and written per write call at most."""


class JsonlWriter:
    """A recorder subscriber that appends each record (scrubbed) to a JSONL file.

    Calling it only queues the record: formatting, scrubbing, writing and flushing
    happen on the writer's own thread, so a slow disk (a network or Drive folder)
    never delays the session's event loop, and so never shifts the pacer whose
    timing is being measured. Lines are flushed whenever the queue runs dry and at
    least every ``flush_interval`` seconds while records keep coming, so a crash or
    a dropped connection leaves everything received so far on disk; :meth:`close`
    (also run at interpreter exit) writes what is still queued.

    Args:
        path: the file to create (parent directories are made).
        stream: write to this text stream instead of opening ``path`` (benchmarks
            pass a deliberately slow one); it is closed with the writer.
        flush_interval: the longest a written line may wait for its flush.

    Raises:
        OSError: the file cannot be created.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        stream: IO[str] | None = None,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        self.path = Path(path)
        if stream is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            stream = self.path.open("w", encoding="utf-8")
        self._file: IO[str] | None = stream
        self.flush_interval = flush_interval
        self.error: OSError | None = None
        """The write error that stopped the file (the session and its recorder go on)."""
        self._queue: queue.SimpleQueue[Record | None] = queue.SimpleQueue()
        self._queued = 0
        self._written = 0
        self._settled = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._drain, name="smnb-jsonl", daemon=True)
        self._thread.start()
        _OPEN_WRITERS.add(self)

    def __call__(self, record: Record) -> None:
        if self._closed:
            return
        with self._settled:
            self._queued += 1
        self._queue.put(record)

    def write_all(self, records: Iterable[Record]) -> None:
        """Write records recorded before this writer subscribed."""
        for record in records:
            self(record)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record queued so far is written and flushed (True) or timeout."""
        with self._settled:
            target = self._queued
            return self._settled.wait_for(
                lambda: self._written >= target or not self._thread.is_alive(), timeout
            )

    def close(self) -> None:
        """Write what is queued, flush and close the file; later records are ignored."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join()
        _OPEN_WRITERS.discard(self)

    # --- the writer thread ---------------------------------------------------------

    def _drain(self) -> None:
        last_flush = time.monotonic()
        while True:
            batch = [self._queue.get()]
            while len(batch) < _BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            done = None in batch
            lines = [to_line(scrubbed(r)) + "\n" for r in batch if r is not None]
            now = time.monotonic()
            # Flush once caught up, or when written lines have waited long enough.
            flush = done or self._queue.empty() or now - last_flush >= self.flush_interval
            self._write(lines, flush=flush)
            if flush:
                last_flush = now
            with self._settled:
                self._written += len(lines)
                self._settled.notify_all()
            if done:
                break
        self._close_file()

    def _write(self, lines: list[str], *, flush: bool) -> None:
        file = self._file
        if file is None or self.error is not None:
            return
        try:
            file.write("".join(lines))
            if flush:
                file.flush()
        except OSError as exc:  # the session goes on: its recorder still holds everything
            self.error = exc
            logger.error("cannot write %s (%s); the log stops here", self.path, exc)

    def _close_file(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError as exc:
                self.error = self.error or exc
                logger.error("cannot close %s (%s)", self.path, exc)


_OPEN_WRITERS: weakref.WeakSet[JsonlWriter] = weakref.WeakSet()


@atexit.register
def _close_open_writers() -> None:
    # A script that ends (or crashes) mid-session still leaves its log complete on disk.
    for writer in list(_OPEN_WRITERS):
        writer.close()
