"""Result: one session's recorder plus lazily built tables, text and exports.

A :class:`Result` is handed out as soon as a session starts and fills up as
records arrive. Every table is built on first access from a snapshot of the
recorder and cached until more records arrive, so reading ``result.words``
from a notebook cell while a background session is still appending is safe
and cheap. Everything shown (repr, HTML) or written (CSV, Parquet,
``summary.json``, ``messages.jsonl``) is scrubbed of credentials.

Imports pandas; never the transport (``smnb.session``, websockets, asyncio),
widgets or plots.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from smnb import tables
from smnb._version import __version__
from smnb.exceptions import ConfigError
from smnb.protocol.messages import Message
from smnb.recorder import LOG_NAME, Record, Recorder, write_jsonl
from smnb.recorder.sanitize import redact_url, sanitize, scrub_text
from smnb.result import export as _export
from smnb.result.facts import SessionFacts, error_from
from smnb.result.view import FAST_PACE_NOTE, html_summary, text_summary


class Result:
    """Everything one session sent and received, as tables.

    Args:
        recorder: the session's log (still being appended to while live).
        source: a name for the audio (file name, ``"microphone"``); defaults to
            the ``Session`` note's ``source``.
        url: the server URL; credentials are stripped before it is stored.
        start: the ``StartRecognition`` message sent; defaults to the recorded one.
        error: the exception that ended the session, if the caller knows it.
            Otherwise :attr:`error` is derived from the records.
        jsonl_path: where the log is already being written (or was loaded
            from); :meth:`to_csv` then does not write it again over itself.
        live: False for a session rebuilt from disk, which can no longer grow.
    """

    def __init__(
        self,
        recorder: Recorder,
        *,
        source: str | None = None,
        url: str | None = None,
        start: Message | None = None,
        error: BaseException | None = None,
        jsonl_path: str | Path | None = None,
        live: bool = True,
    ) -> None:
        self.recorder = recorder
        self.jsonl_path = Path(jsonl_path) if jsonl_path is not None else None
        self.live = live
        self._source = source
        self._url = redact_url(url) if url is not None else None
        self._start = start
        self._error = error
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, Any]] = {}

    # --- cached building --------------------------------------------------------

    def _cached(
        self,
        name: str,
        build: Callable[[list[Record]], Any],
        records: list[Record] | None = None,
    ) -> Any:
        # Records are only ever appended, so their count versions every cached value.
        n = len(self.recorder) if records is None else len(records)
        with self._lock:
            hit = self._cache.get(name)
        if hit is not None and hit[0] == n:
            return hit[1]
        if records is None:
            records = self.recorder.snapshot()
        value = build(records)
        with self._lock:
            self._cache[name] = (len(records), value)
        return value

    def _table(self, name: str, records: list[Record] | None = None) -> pd.DataFrame:
        df: pd.DataFrame = self._cached(name, getattr(tables, name), records)
        return df.copy(deep=False)  # cheap under copy-on-write; edits never reach the cache

    @property
    def _facts(self) -> SessionFacts:
        facts: SessionFacts = self._cached("_facts", SessionFacts.scan)
        return facts

    # --- tables -----------------------------------------------------------------

    @property
    def messages(self) -> pd.DataFrame:
        """Every record: the raw log as a table."""
        return self._table("messages")

    @property
    def words(self) -> pd.DataFrame:
        """Final words, punctuation and entities with arrival time and latency."""
        return self._table("words")

    @property
    def partials(self) -> pd.DataFrame:
        """Every item of every partial transcript."""
        return self._table("partials")

    @property
    def transcripts(self) -> pd.DataFrame:
        """One row per partial/final transcript message, empty ones included."""
        return self._table("transcripts")

    @property
    def utterances(self) -> pd.DataFrame:
        """Final words grouped into utterances."""
        return self._table("utterances")

    @property
    def events(self) -> pd.DataFrame:
        """``Info``, ``Warning``, ``Error`` and ``EndOfUtterance`` messages."""
        return self._table("events")

    @property
    def info(self) -> pd.DataFrame:
        """The ``Info`` rows of :attr:`events`."""
        return self._events_of("Info")

    @property
    def warnings(self) -> pd.DataFrame:
        """The ``Warning`` rows of :attr:`events`."""
        return self._events_of("Warning")

    @property
    def errors(self) -> pd.DataFrame:
        """The ``Error`` rows of :attr:`events`."""
        return self._events_of("Error")

    @property
    def audio(self) -> pd.DataFrame:
        """One row per audio frame: schedule, send, ack and pacing error."""
        return self._table("audio")

    @property
    def connections(self) -> pd.DataFrame:
        """One row per connection: a session that reconnected shows its pieces and gaps."""
        return self._table("connections")

    @property
    def reconnections(self) -> list[Message]:
        """The ``Reconnect`` notes, in order: ``gap_s``, ``old_session_id``,
        ``new_session_id``, ``audio_offset``, ``resent_frames``, ``attempts``, ``reason``."""
        return [sanitize(p) for p in self._facts.reconnections]

    @property
    def text(self) -> str:
        """The final transcript as plain text."""
        value: str = self._cached("text", tables.text)
        return value

    def _events_of(self, kind: str) -> pd.DataFrame:
        ev = self.events
        return ev[ev["message"] == kind].reset_index(drop=True)

    # --- session facts ----------------------------------------------------------

    @property
    def config(self) -> Message | None:
        """The ``StartRecognition`` message sent (credentials scrubbed)."""
        start = self._start if self._start is not None else self._facts.start
        return sanitize(start) if start is not None else None

    @property
    def source(self) -> str | None:
        """The audio source's name."""
        source = self._source if self._source is not None else self._facts.session.get("source")
        return scrub_text(source) if isinstance(source, str) else None

    @property
    def url(self) -> str | None:
        """The server URL, without credentials."""
        url = self._url if self._url is not None else self._facts.session.get("url")
        return redact_url(url) if isinstance(url, str) else None

    @property
    def session_id(self) -> str | None:
        """The server's session id (``RecognitionStarted.id``)."""
        return self._facts.session_id

    @property
    def completed(self) -> bool:
        """True once ``EndOfTranscript`` has arrived."""
        return self._facts.completed

    @property
    def audio_seconds(self) -> float | None:
        """Seconds of audio sent (the latest ``audio_end`` of any frame)."""
        return self._facts.audio_seconds

    @property
    def pace(self) -> str | None:
        """How the audio was sent: ``realtime``, ``fast`` or ``live`` (the ``Session`` note)."""
        pace = self._facts.session.get("pace")
        return pace if isinstance(pace, str) else None

    @property
    def latency_meaningful(self) -> bool:
        """False at ``fast`` pace: the audio went out faster than real time, so arrival
        times say nothing about latency (they would even be negative)."""
        return self.pace != "fast"

    @property
    def problems(self) -> list[Message]:
        """Problems the session survived (e.g. a malformed server frame), in order.

        Each is the ``Problem`` note's payload (``error``, ``message``, and for a bad
        frame the ``frame`` itself) with its record index ``i`` and time ``t``
        (credentials scrubbed). They never make the session fail.
        """
        return [sanitize(p) for p in self._facts.problems]

    @property
    def error(self) -> BaseException | None:
        """Why the session failed, or None: the session's one outcome.

        The exception the transport raised, when this Result is the live one;
        otherwise rebuilt from the log's single ``ClientError`` note (older logs:
        a server ``Error`` → :class:`ServerError`, a close before
        ``EndOfTranscript`` → :class:`ConnectionLost`). :attr:`problems` never count.
        """
        if self._error is not None:
            return self._error
        derived: BaseException | None = self._cached(
            "_error", lambda records: error_from(SessionFacts.scan(records), result=self)
        )
        return derived

    @error.setter
    def error(self, value: BaseException | None) -> None:
        self._error = value

    @property
    def state(self) -> str:
        """``completed``, ``failed``, ``running`` (live) or ``incomplete`` (loaded, unfinished)."""
        if self.error is not None:
            return "failed"
        if self.completed:
            return "completed"
        return "running" if self.live else "incomplete"

    def final_latency(self, q: float) -> float | None:
        """The ``q``-quantile of final word latency in seconds (None without words).

        ``q`` is a fraction in [0, 1], like pandas' ``quantile`` (0.95, not 95), with
        linear interpolation. Words and entities only: punctuation has zero duration.
        ``None`` too at ``fast`` pace, where latency means nothing
        (:attr:`latency_meaningful`; the ``words`` table keeps the raw numbers).

        Raises:
            ConfigError: ``q`` is not a number in [0, 1].
        """
        if isinstance(q, bool) or not isinstance(q, int | float) or not 0 <= q <= 1:
            raise ConfigError(
                f"q is a quantile in [0, 1] (0.95 for the 95th percentile), not {q!r}"
            )
        lat = self._latencies()
        if not len(lat) or not self.latency_meaningful:
            return None
        return float(np.quantile(lat, q))

    def _latencies(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        words: pd.DataFrame = self._cached("words", tables.words)
        mask = words["type"].isin(["word", "entity"]) & words["latency_s"].notna()
        return words.loc[mask, "latency_s"].to_numpy(dtype=np.float64)

    # --- summary and export -----------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Settings, counts and headline numbers, JSON-ready and scrubbed."""
        facts = self._facts
        words, ev = self.words, self.events
        kinds = self.transcripts["kind"].value_counts()
        error = self.error
        return {
            "smnb_version": __version__,
            "source": self.source,
            "url": self.url,
            "session_id": self.session_id,
            "state": self.state,
            "completed": self.completed,
            "error": None
            if error is None
            else {"type": type(error).__name__, "message": scrub_text(str(error))},
            "config": self.config,
            "session": sanitize(facts.session),
            "audio_seconds": self.audio_seconds,
            "counts": {
                "records": facts.n,
                "partials": int(kinds.get("partial", 0)),
                "finals": int(kinds.get("final", 0)),
                "words": int(words["type"].isin(["word", "entity"]).sum()),
                "punctuation": int((words["type"] == "punctuation").sum()),
                "utterances": len(self.utterances),
                "audio_frames": len(self.audio),
                "info": int((ev["message"] == "Info").sum()),
                "warnings": int((ev["message"] == "Warning").sum()),
                "errors": int((ev["message"] == "Error").sum()),
            },
            "problems": self.problems,
            "reconnections": self.reconnections,
            "final_latency_s": self._latency_summary(),
        }

    def _latency_summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "n": len(self._latencies()),
            "p50": self.final_latency(0.5),
            "p95": self.final_latency(0.95),
        }
        if not self.latency_meaningful:
            summary["note"] = FAST_PACE_NOTE
        return summary

    def to_csv(self, directory: str | Path) -> Path:
        """Write ``words.csv`` … ``audio.csv``, ``messages.jsonl`` and ``summary.json``.

        Returns the directory. ``messages.jsonl`` is left alone when it is the
        file this session is already being written to.
        """
        return self._export(Path(directory), "csv")

    def to_parquet(self, directory: str | Path) -> Path:
        """Like :meth:`to_csv`, with one ``.parquet`` file per table (needs pyarrow).

        Raises:
            ImportError: pyarrow is missing (install ``smnb[parquet]``).
        """
        _export.require_pyarrow()
        return self._export(Path(directory), "parquet")

    def _export(self, directory: Path, fmt: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        records = self.recorder.snapshot()  # one snapshot: files agree even while live
        frames = {name: self._table(name, records) for name in _export.TABLE_FILES}
        _export.write_tables(frames, directory, fmt)
        target = directory / LOG_NAME
        if not _export.same_file(self.jsonl_path, target):
            write_jsonl(records, target)
        _export.write_json(self.summary(), directory / "summary.json")
        return directory

    # --- display ----------------------------------------------------------------

    def __repr__(self) -> str:
        return text_summary(self)

    def _repr_html_(self) -> str:
        return html_summary(self)
