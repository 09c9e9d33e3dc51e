"""When provisional words become finals, and where the decoding may be cut.

Pure functions of word timings, used by :mod:`smnb.server.pocketsphinx.recognizer`.
The recognizer decodes the speech since its last cut as one pocketsphinx utterance (a
*unit*) and, after every 30 ms of audio, asks :meth:`CommitPolicy.is_due` whether the
oldest provisional (first-pass) word is about to exceed ``max_delay``. When it is:

* if the first pass shows a pause after the due words with enough audio heard after it
  (:meth:`CommitPolicy.find_pause`), the unit is ended there: bestpath search and word
  posteriors over everything heard so far; :meth:`CommitPolicy.choose_cut` picks the
  pause; the words before it become finals; the audio after it is decoded again as a new
  unit (whose language-model history restarts, harmless at a pause);
* otherwise the due words are committed straight from the first pass
  (:meth:`CommitPolicy.due_words`) and the unit goes on, its history intact. Cutting in
  the middle of fluent speech was measured to cost far more accuracy (WER 0.42–0.52 at
  max_delay 0.7 on the bundled clips, against 0.29–0.31 this way).

A smaller ``max_delay`` commits with less right context, and more often from the first
pass: that is the engine's real latency/accuracy trade-off. Deadlines are in audio time,
so the outcome does not depend on how the audio was chunked.

Must not import: asyncio, websockets, pandas, pocketsphinx, anything from ``smnb.session``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from smnb.server.recognizer import MaxDelayMode, Word

CHECK_INTERVAL = 0.03
"""Audio seconds between two deadline checks (one VAD frame)."""

SAFETY_MARGIN = 0.15
"""Commit this much before ``max_delay`` in audio time: up to 0.1 s waiting for the end of a
50–100 ms chunk plus ~0.05 s of processing, so the wall-clock delay stays within max_delay."""

MAX_STABLE_CONTEXT = 1.0
"""Right context after which pocketsphinx's first-pass words practically never change
(engine-feasibility §7: 0 to 5 % change at 1 s, and the curve is flat beyond)."""

MIN_SILENCE = 0.1
"""A gap of at least this long between two words counts as a pause, a safe place to cut."""

SPLIT_ALLOWANCE = 0.15
"""The bestpath search sometimes splits the first pass's oldest word ("homeless" → "hello
study"), so a final can end before the word the deadline was computed from. The deadline
therefore counts from at most this long after the oldest word's start."""

ASSUMED_DECODING_RTF = 0.2
"""CPU seconds one re-decoded audio second is assumed to take, on a shared 2-core machine
(0.12–0.14 measured unloaded, 0.25–0.3 with eight busy processes). Re-decoding is
planned with this constant, not a clock, so the same audio always gives the same decisions."""

FLEXIBLE_HOLD = 2.0
"""In ``flexible`` mode a spoken number may hold its finals up to this long past the deadline."""

_NUMBER_VOCABULARY = (
    "zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred thousand million billion trillion point first second third fourth fifth "
    "sixth seventh eighth ninth tenth eleventh twelfth twentieth thirtieth hundredth thousandth "
    "half quarter percent dollars dollar cents pounds euros"
)
NUMBER_WORDS = frozenset(_NUMBER_VOCABULARY.split())
"""Words that may belong to a spoken number, amount or ordinal (an entity in flexible mode)."""


@dataclass(frozen=True, slots=True)
class CommitPolicy:
    """The commit rule for one session's ``max_delay`` and ``max_delay_mode``."""

    max_delay: float
    mode: MaxDelayMode = "fixed"

    @property
    def budget(self) -> float:
        """The audio-time delay allowed between a word's end and its commit."""
        return self.max_delay - SAFETY_MARGIN

    @property
    def stable_context(self) -> float:
        """Right context wanted after a pause before cutting there.

        Half the budget (so the next cut is at least that far away and the re-decoding cost
        stays bounded), and never more than :data:`MAX_STABLE_CONTEXT`.
        """
        return min(MAX_STABLE_CONTEXT, self.budget / 2)

    def is_due(self, pending: Sequence[Word], now: float) -> bool:
        """Must the oldest pending word be committed at this check (``now`` = audio time)?

        True when waiting for the next check would exceed a deadline. ``pending`` is the
        first-pass hypothesis; finals may come from the bestpath search, which can split its
        oldest word, so the deadline counts from no later than :data:`SPLIT_ALLOWANCE` after
        that word's start. In flexible mode a number still being spoken (a run of number
        words reaching the newest pending word) is held, for at most :data:`FLEXIBLE_HOLD`
        past the deadline.
        """
        if not pending:
            return False
        earliest_end = min(pending[0].end_time, pending[0].start_time + SPLIT_ALLOWANCE)
        late = now + CHECK_INTERVAL - (earliest_end + self.budget)
        if late < 0:
            return False
        held = self.mode == "flexible" and late < FLEXIBLE_HOLD and _number_in_progress(pending)
        return not held

    def can_redecode(self, pending: Sequence[Word], now: float, seconds: float) -> bool:
        """Is there time to decode ``seconds`` of audio again before the oldest pending
        word is due? (Always, when nothing is pending or there is no deadline.)"""
        if not pending or math.isinf(self.budget):
            return True
        earliest_end = min(pending[0].end_time, pending[0].start_time + SPLIT_ALLOWANCE)
        spent = now + CHECK_INTERVAL - earliest_end
        return spent + seconds * ASSUMED_DECODING_RTF <= self.budget

    def due_words(self, pending: Sequence[Word], now: float) -> tuple[Word, ...]:
        """The pending words that must be committed now (at least the oldest).

        In flexible mode a number run reaching into them is committed whole.
        """
        if not pending:
            return ()
        until = max(
            (w.end_time for w in pending if w.end_time <= now + CHECK_INTERVAL - self.budget),
            default=pending[0].end_time,
        )
        if self.mode == "flexible":
            until = _extend_over_number(pending, until)
        return tuple(w for w in pending if w.end_time <= until)

    def find_pause(self, words: Sequence[Word], now: float) -> float | None:
        """The latest pause after the due words with :attr:`stable_context` heard after it.

        Returns the end time of the word before the pause, or None when there is none.
        """
        due = self.due_words(words, now)
        if not due:
            return None
        reach = now - self.stable_context
        best: float | None = None
        for i, word in enumerate(words):
            end = word.end_time
            if end < due[-1].end_time or end > reach:
                continue
            gap_end = words[i + 1].start_time if i + 1 < len(words) else now
            if gap_end - end >= MIN_SILENCE:
                best = end
        return best

    def choose_cut(self, words: Sequence[Word], now: float) -> float:
        """Where to split the unit's bestpath ``words``: commit every word ending at or before it.

        Called once something is due. The cut covers every due word (at least the oldest
        word), then reaches as far as it can while keeping :attr:`stable_context` of right
        context, preferring the latest pause (a gap of :data:`MIN_SILENCE`) because the next
        unit restarts its language-model history there. In flexible mode it never splits a
        run of number words.
        """
        if not words:
            return now
        due_ends = [w.end_time for w in words if w.end_time <= now + CHECK_INTERVAL - self.budget]
        must_until = max(due_ends) if due_ends else words[0].end_time
        if self.mode == "flexible":
            must_until = _extend_over_number(words, must_until)
        reach = now - self.stable_context
        pauses: list[float] = []
        boundaries: list[float] = []
        for i, word in enumerate(words):
            end = word.end_time
            if end < must_until or end > reach:
                continue
            following = words[i + 1] if i + 1 < len(words) else None
            if self.mode == "flexible" and following is not None and _joins_number(word, following):
                continue
            boundaries.append(end)
            gap_end = following.start_time if following is not None else now
            if gap_end - end >= MIN_SILENCE:
                pauses.append(end)
        if pauses:
            return max(pauses)
        if boundaries:
            return max(boundaries)
        return must_until


def is_number_word(content: str) -> bool:
    """Whether ``content`` may be part of a spoken number."""
    return content.lower() in NUMBER_WORDS


def _joins_number(left: Word, right: Word) -> bool:
    return is_number_word(left.content) and is_number_word(right.content)


def _extend_over_number(words: Sequence[Word], until: float) -> float:
    """Move ``until`` to the end of the run of number words it falls inside, if any."""
    last = max((i for i, w in enumerate(words) if w.end_time <= until), default=-1)
    while 0 <= last < len(words) - 1 and _joins_number(words[last], words[last + 1]):
        last += 1
    return words[last].end_time if last >= 0 else until


def _number_in_progress(pending: Sequence[Word]) -> bool:
    """The oldest pending word starts a run of number words that reaches the newest word."""
    return all(is_number_word(w.content) for w in pending)
