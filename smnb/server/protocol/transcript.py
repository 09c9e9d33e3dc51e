"""Recognizer updates → ``AddTranscript`` / ``AddPartialTranscript`` / ``EndOfUtterance``.

One :class:`TranscriptWriter` per audio stream (per channel in a multichannel
session). It shapes the engine's committed words into messages that look like
the service's:

* finals tile the timeline: each ``AddTranscript``'s ``metadata.start_time`` is the
  previous one's ``end_time``; its transcript ends with a space;
* a ``.`` (``attaches_to: previous``, ``is_eos: true``) closes each utterance the
  engine ended, and the next word starts with a capital;
* partials come on a fixed audio cadence (:data:`PARTIAL_INTERVAL`), empty ones in
  silence included, and right after every final;
* finals keep a steady audio cadence, as the service's do (an ``AddTranscript`` every
  0.37 s of audio at the median in recorded SaaS sessions): committed words go out at
  once (the cadence never holds a word back, so it adds no latency), and when
  :data:`FINAL_INTERVAL` of audio has passed without an ``AddTranscript`` an empty one
  is sent. Its metadata advances over audio known to hold no more words
  (:meth:`TranscriptWriter._horizon`), so in silence the empty finals step through
  the timeline; while words are pending (not yet due under ``max_delay``) the
  metadata cannot pass them, and an empty final is only sent after
  :data:`HEARTBEAT_INTERVAL`, the longest gap the service was seen to leave;
* with an end-of-utterance trigger it tells the session when the silence since the
  last word is long enough (:meth:`eou_due`), once per silence.

``metadata.transcript`` is rendered by :mod:`smnb.protocol.text`, the client's renderer,
so the server's text and ``result.text`` agree.

Stdlib only, plus the recognizer's data types. No asyncio, no websockets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smnb.protocol.messages import JSON_FORMAT_VERSION, Message, ServerMessage
from smnb.protocol.text import join_tokens
from smnb.server.recognizer import Update, Word

PARTIAL_INTERVAL = 0.36
"""Audio seconds between two partials (the cadence seen in real traffic)."""

FINAL_INTERVAL = PARTIAL_INTERVAL
"""Audio seconds without an ``AddTranscript`` after which an empty one is sent."""

HEARTBEAT_INTERVAL = 2 * FINAL_INTERVAL
"""...or, while pending words keep its metadata from advancing, after this long."""

SILENCE_SETTLE = 1.0
"""With no word pending, audio older than this (or than ``max_delay``, if smaller) holds no
word still to come: a word reaches the partial within ~0.75 s of its start (measured on
the bundled clips, the VAD's 0.6 s pre-roll included)."""

EOU_PENDING_GRACE = 0.6
"""Extra silence required for an end of utterance while words are still provisional."""

_EPS = 1e-6


@dataclass(slots=True)
class TranscriptWriter:
    """Message builder for one stream; see the module docstring."""

    language: str = "en"
    channel: str | None = None
    partials: bool = False
    eou_trigger: float = 0.0
    speakers: bool = False
    settle_delay: float = 4.0
    """The session's ``max_delay``: every word ending before ``processed - settle_delay``
    is final already."""

    final_end: float = 0.0
    processed: float = 0.0
    _next_partial: float = PARTIAL_INTERVAL
    _sentence_open: bool = False  # words since the last sentence end
    _last_speaker: str | None = None
    _last_final_word_end: float = 0.0
    _last_word_end: float | None = None
    _eou_armed: bool = False
    _partial: tuple[Word, ...] = field(default_factory=tuple)
    _last_final_at: float = 0.0  # audio processed when the last AddTranscript went out

    # --- updates ----------------------------------------------------------------

    def update(self, update: Update) -> list[Message]:
        """Messages for the result of a ``feed``: a final if words were committed (or an
        empty one when the final cadence is due), then a partial (after a final, or when
        the partial cadence is due)."""
        self._advance(update)
        out: list[Message] = []
        results = self._results(update.finals, update.utterance_ends)
        if results:
            out.append(self._final(results))
        elif self._empty_final_due():
            out.append(self._final([]))
        due = self.processed + _EPS >= self._next_partial
        if due:
            self._next_partial = (math.floor(self.processed / PARTIAL_INTERVAL + _EPS) + 1) * (
                PARTIAL_INTERVAL
            )
        if self.partials and (out or due):
            out.append(self._partial_message())
        return out

    def end_of_utterance(self, update: Update, *, forced: bool) -> list[Message]:
        """After a forced commit: the final (possibly empty), a partial, ``EndOfUtterance``."""
        self._advance(update)
        results = self._results(update.finals, update.utterance_ends, close=True)
        out = [self._final(results, forced=forced)]
        if self.partials:
            out.append(self._partial_message())
        eou: Message = {
            "message": ServerMessage.END_OF_UTTERANCE.value,
            "format": JSON_FORMAT_VERSION,
            "metadata": {"start_time": self.processed, "end_time": self.processed},
        }
        if forced:
            eou["forced"] = True
        if self.channel is not None:
            eou["channel"] = self.channel
        out.append(eou)
        self._eou_armed = False
        return out

    def finish(self, update: Update) -> list[Message]:
        """The stream ended: every remaining word as a final, then an empty partial."""
        self._advance(update)
        results = self._results(update.finals, update.utterance_ends, close=True)
        out: list[Message] = []
        if results:
            out.append(self._final(results))
        if self.partials:
            self._partial = ()
            out.append(self._partial_message(start=self.processed))
        return out

    def eou_due(self) -> bool:
        """Has the end-of-utterance silence trigger elapsed since the last word (once)?

        While the recognizer still holds provisional words the silence may only be its
        first pass lagging behind the audio (~0.5 s), so then the trigger must be exceeded
        by :data:`EOU_PENDING_GRACE` too; usually the recognizer's own pause detection
        commits the words first.
        """
        if self.eou_trigger <= 0 or not self._eou_armed or self._last_word_end is None:
            return False
        silence = self.processed - self._last_word_end + _EPS
        needed = self.eou_trigger + (EOU_PENDING_GRACE if self._partial else 0.0)
        return silence >= needed

    @property
    def pending_words(self) -> bool:
        """Whether the recognizer holds provisional words (a forced commit has work to do)."""
        return bool(self._partial)

    # --- internals -----------------------------------------------------------------

    def _advance(self, update: Update) -> None:
        self.processed = max(self.processed, update.processed_until)
        self._partial = tuple(update.partial)
        newest = [w.end_time for w in (*update.finals, *update.partial)]
        if newest:
            self._last_word_end = max(self._last_word_end or 0.0, *newest)
            self._eou_armed = True

    def _horizon(self) -> float:
        """How far the finals' metadata may reach: no word still to come starts before it.

        Not past a pending word, nor past audio so recent a word may not have surfaced
        in the recognizer's output yet.
        """
        settled = self.processed - min(self.settle_delay, SILENCE_SETTLE)
        if self._partial:
            settled = min(settled, self._partial[0].start_time)
        return max(self.final_end, round(settled, 3))  # as the metadata is written

    def _empty_final_due(self) -> bool:
        since = self.processed - self._last_final_at + _EPS
        if since < FINAL_INTERVAL:
            return False
        if self._horizon() > self.final_end + _EPS:
            return True
        return bool(self._partial) and since >= HEARTBEAT_INTERVAL  # held by a pending word

    def _results(
        self, words: Sequence[Word], ends: Iterable[float], *, close: bool = False
    ) -> list[Message]:
        """Word results with a ``.`` wherever an utterance ended (and at the end if ``close``)."""
        out: list[Message] = []
        pending_ends = sorted(ends)
        for word in words:
            while pending_ends and pending_ends[0] <= word.start_time + 0.05:
                pending_ends.pop(0)
                self._close_sentence(out)
            out.append(self._word(word))
        if pending_ends or close:
            self._close_sentence(out)
        return out

    def _close_sentence(self, out: list[Message]) -> None:
        if not self._sentence_open:
            return
        self._sentence_open = False
        # Never before the metadata start: an empty final may have passed the word already.
        end = max(out[-1]["end_time"] if out else self._last_final_word_end, self.final_end)
        alt: dict[str, Any] = {"content": ".", "confidence": 1.0, "language": self.language}
        if self.speakers:
            alt["speaker"] = self._last_speaker or "UU"
        result: Message = {
            "type": "punctuation",
            "start_time": end,
            "end_time": end,
            "alternatives": [alt],
            "attaches_to": "previous",
            "is_eos": True,
        }
        if self.channel is not None:
            result["channel"] = self.channel
        out.append(result)

    def _word(self, word: Word, *, sentence_start: bool | None = None) -> Message:
        start = not self._sentence_open if sentence_start is None else sentence_start
        alt: dict[str, Any] = {
            "content": _display(word.content, sentence_start=start),
            "confidence": round(word.confidence, 2),
            "language": self.language,
        }
        if self.speakers:
            alt["speaker"] = word.speaker or "UU"
        result: Message = {
            "type": "word",
            "start_time": word.start_time,
            "end_time": word.end_time,
            "alternatives": [alt],
        }
        if self.channel is not None:
            result["channel"] = self.channel
        if sentence_start is None:  # a final word: it moves the sentence state on
            self._sentence_open = True
            self._last_speaker = word.speaker
            self._last_final_word_end = word.end_time
        return result

    def _final(self, results: list[Message], *, forced: bool = False) -> Message:
        start = self.final_end
        stop = max([self._horizon(), *(r["end_time"] for r in results)])
        self.final_end = stop
        self._last_final_at = self.processed
        msg = self._transcript(ServerMessage.ADD_TRANSCRIPT, results, start, stop)
        msg["metadata"]["transcript"] = join_tokens(results) + (" " if results else "")
        if forced:
            msg["forced"] = True
        return msg

    def _partial_message(self, *, start: float | None = None) -> Message:
        results: list[Message] = []
        opening = not self._sentence_open
        for word in self._partial:
            results.append(self._word(word, sentence_start=opening))
            opening = False
        begin = self.final_end if start is None else start
        msg = self._transcript(
            ServerMessage.ADD_PARTIAL_TRANSCRIPT, results, begin, max(begin, self.processed)
        )
        msg["metadata"]["transcript"] = join_tokens(results)
        return msg

    def _transcript(
        self, kind: ServerMessage, results: list[Message], start: float, end: float
    ) -> Message:
        msg: Message = {
            "message": kind.value,
            "format": JSON_FORMAT_VERSION,
            "metadata": {"start_time": round(start, 3), "end_time": round(end, 3)},
            "results": results,
        }
        if self.channel is not None:
            msg["channel"] = self.channel
        return msg


def _display(content: str, *, sentence_start: bool) -> str:
    """Written form: capital at a sentence start, and the pronoun ``I``."""
    if content == "i" or content.startswith("i'"):
        return "I" + content[1:]
    if sentence_start and content[:1].islower():
        return content[0].upper() + content[1:]
    return content
