"""The pocketsphinx-backed :class:`~smnb.server.recognizer.Recognizer`.

One instance decodes one audio stream:

* Audio is split into 30 ms frames and segmented into utterances by
  :class:`~smnb.server.pocketsphinx.segmenter.SpeechSegmenter` (WebRTC VAD ``STRICT``, the
  ``pocketsphinx.Endpointer`` rule without its 0.3 s output delay). Only speech, with a
  short pre-roll, is decoded.
* The speech since the last cut is decoded incrementally as one pocketsphinx utterance,
  a *unit* (:class:`~smnb.server.pocketsphinx.unit.UnitDecoder`): ``fwdtree`` first pass
  while it grows, ``bestpath`` lattice search (with word posteriors) when it ends.
* Every unit is normalised by a cepstral mean measured on this session's own audio
  (:mod:`~smnb.server.pocketsphinx.cmn`), never carried from another session. A unit
  whose audio moved that mean is decoded again before its words are committed: at its
  end, and during a session's opening (:data:`OPENING_MILESTONES`), as long as the
  oldest pending word's deadline leaves the time.
* After each frame :class:`~smnb.server.pocketsphinx.commit_policy.CommitPolicy` checks the
  first-pass words against ``max_delay``. A due word is committed either by cutting the
  unit at a pause (its words then get bestpath + posteriors, the rest is re-decoded) or,
  with no usable pause, straight from the first pass while the unit goes on. When the VAD
  hears the utterance end, the unit ends and all its remaining words become finals.
* ``confidence`` is the lattice posterior (clamped to 0–1) for bestpath finals and the
  first-pass stability for words committed from the first pass (see
  :mod:`~smnb.server.pocketsphinx.unit`). Partials are the unit's uncommitted first-pass
  words (``confidence`` 1.0, meaningless, as in the service). ``processed_until`` is the
  audio consumed. ``utterance_ends`` holds the end of the last word of each utterance
  closed by a pause, ``force_end_of_utterance`` or ``finish`` (nothing for an utterance
  without words).
* Every decision is taken in audio time (a word is final at most ``max_delay`` − 0.15 s
  of audio after its end; re-decoding is planned with an assumed CPU cost), so the output
  depends on the audio and the settings alone: real time or as fast as possible, any
  feed size, whatever this process decoded before. When no word had to be committed
  before its utterance ended (:attr:`early_commits` stays 0, typical at ``max_delay`` 4
  for utterances under ~3.8 s), the finals are exactly those of
  :func:`smnb.server.pocketsphinx.batch.recognize`.

The loaded decoder (≈0.5 s to load, ~100 MB) is cached per process and handed to the next
recognizer (:mod:`~smnb.server.pocketsphinx.decoder`). A session that added
``additional_vocab`` words leaves its decoder dirty, so it is dropped rather than reused.

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import numpy as np

from smnb.server.pocketsphinx.cmn import SessionCmn, meter, moved
from smnb.server.pocketsphinx.commit_policy import CommitPolicy
from smnb.server.pocketsphinx.decoder import CACHE
from smnb.server.pocketsphinx.diarization import OnlineDiarizer
from smnb.server.pocketsphinx.segmenter import FRAME_BYTES, Event, SpeechSegmenter
from smnb.server.pocketsphinx.unit import UnitDecoder
from smnb.server.pocketsphinx.vocabulary import add_words
from smnb.server.recognizer import (
    SAMPLE_RATE,
    MaxDelayMode,
    RecognizerSettings,
    Samples,
    Update,
    Word,
)

MAX_UNIT_SECONDS = 12.0
"""A unit is cut once it is this long, so decoding state stays bounded in speech with no
pause; one with no word at all (noise the VAD calls speech) is restarted keeping only the
last :data:`IDLE_RESTART_CONTEXT` seconds."""

IDLE_RESTART_CONTEXT = 0.3

CUT_PREROLL = 0.15
"""After a cut at a pause, re-decoding starts this long before the next word rather than
right after the committed one: a long silence at the start of a unit, heard with a fresh
language-model history, invites an inserted "i" or "the"."""

OPENING_MILESTONES = (0.5, 1.0, 2.0, 4.0)
"""Seconds of session audio after which the open unit is re-decoded with the mean measured
so far, if that moved (once each): the first pass of a session's opening is normalised by
the generic prior, and words committed from it before their unit ends would keep its
errors. Later units start from a mean measured on earlier speech."""

RETUNE_CONTEXT = 1.0
"""Re-decoding a unit starts this long before its oldest pending word (or at the unit's
start), so the language model has its history again by the words that matter."""


class PocketsphinxRecognizer:
    """Streaming recognizer for one 16 kHz mono stream; see the module docstring."""

    def __init__(self, settings: RecognizerSettings, *, decoder: Any = None) -> None:
        self.settings = settings
        self._policy = CommitPolicy(settings.max_delay, settings.max_delay_mode)
        self._owns_cached = decoder is None
        self._decoder: Any = CACHE.take() if decoder is None else decoder
        self._segmenter = SpeechSegmenter()
        self._vocab_tokens: dict[str, str] = {}
        self.skipped_vocab: tuple[str, ...] = ()
        """``additional_vocab`` entries that could not be pronounced and were not added."""
        if settings.additional_vocab:
            self._vocab_tokens, self.skipped_vocab = add_words(
                self._decoder, settings.additional_vocab
            )
        self._cmn = SessionCmn(meter())
        self._unit = UnitDecoder(self._decoder, self._cmn, self._vocab_tokens)
        self._diarizer = (
            OnlineDiarizer.for_settings(settings) if settings.speaker_diarization else None
        )
        self._milestones = list(OPENING_MILESTONES)
        self._leftover = b""  # input bytes short of a whole frame
        self._provisional: tuple[Word, ...] = ()  # the unit's uncommitted first-pass words
        self._committed_until = 0.0
        self._utterance_last_end: float | None = None
        self._finals: list[Word] = []
        self._ends: list[float] = []
        self._closed = False
        self.early_commits = 0
        """Words committed before their utterance ended (at a cut, or from the first pass)."""

    @property
    def search_failures(self) -> int:
        """Units whose bestpath search failed (their words fell back to the first pass)."""
        return self._unit.search_failures

    @property
    def redecoded_seconds(self) -> float:
        """Audio decoded a second time so far (re-decoding with a better cepstral mean)."""
        return self._unit.redecoded

    # ------------------------------------------------------------------ Recognizer API

    def feed(self, samples: Samples) -> Update:
        """Decode more audio (any length, 16 kHz mono int16)."""
        data = self._leftover + np.ascontiguousarray(samples, dtype="<i2").tobytes()
        whole = len(data) - len(data) % FRAME_BYTES
        self._leftover = data[whole:]
        if self._diarizer is not None and whole:
            self._diarizer.push(np.frombuffer(data[:whole], dtype="<i2"))
        for offset in range(0, whole, FRAME_BYTES):
            self._push_frame(data[offset : offset + FRAME_BYTES])
        return self._update()

    def force_end_of_utterance(self) -> Update:
        """Commit every pending word now; the next words start a new utterance."""
        if self._unit.in_unit:
            self._end_unit()
            self._close_utterance()
            if self._segmenter.in_speech:
                self._unit.start(self._segmenter.position)
        return self._update()

    def finish(self) -> Update:
        """Decode what is left (a partial frame is padded with silence) and commit everything."""
        if self._leftover:
            pad = FRAME_BYTES - len(self._leftover)
            frame, self._leftover = self._leftover + bytes(pad), b""
            if self._diarizer is not None:
                self._diarizer.push(np.frombuffer(frame, dtype="<i2"))
            self._push_frame(frame)
        if self._unit.in_unit:
            self._end_unit()
            self._close_utterance()
        return self._update()

    def speakers(self) -> dict[str, list[str]]:
        """Speaker labels seen so far → opaque identifiers (empty without diarization)."""
        return {} if self._diarizer is None else self._diarizer.speakers()

    def reconfigure(self, max_delay: float, max_delay_mode: MaxDelayMode) -> None:
        """New commit deadlines for the words not yet final, from the next frame on."""
        self.settings = replace(self.settings, max_delay=max_delay, max_delay_mode=max_delay_mode)
        self._policy = CommitPolicy(max_delay, max_delay_mode)

    def close(self) -> None:
        """Release the decoder to the per-process cache (or drop it if vocabulary made it dirty)."""
        if self._closed:
            return
        self._closed = True
        self._unit.abandon()
        if self._owns_cached:
            CACHE.give_back(self._decoder, dirty=bool(self._vocab_tokens))

    # ------------------------------------------------------------------ frame loop

    def _now(self) -> float:
        return self._segmenter.position / SAMPLE_RATE

    def _push_frame(self, frame: bytes) -> None:
        step = self._segmenter.push(frame)
        if step.event is Event.SILENCE:
            return
        if step.event is Event.START:
            self._utterance_last_end = None
            self._unit.start(step.audio_start)
        elif not self._unit.in_unit:  # speech continuing after a forced end
            self._unit.start(step.audio_start)
        self._unit.feed(step.audio)
        if step.event is Event.END:
            self._end_unit()
            self._close_utterance()
            return
        self._check_deadline()

    def _check_deadline(self) -> None:
        now = self._now()
        heard = self._unit.first_pass(now)
        self._provisional = self._uncommitted(heard)
        self._retune_opening(now)
        if self._policy.is_due(self._provisional, now):
            if self._policy.find_pause(self._provisional, now) is not None:
                self.early_commits += self._cut(now)
            else:
                due = self._policy.due_words(self._provisional, now)
                self.early_commits += self._commit(due)
                self._provisional = self._uncommitted(self._provisional)
        elif now - self._unit.start_sample / SAMPLE_RATE > MAX_UNIT_SECONDS:
            if heard:
                self.early_commits += self._cut(now)
            else:
                self._restart_idle_unit()

    # ------------------------------------------------------------------ cepstral mean

    def _retune_opening(self, now: float) -> None:
        """Past an opening milestone, re-decode the unit with the mean measured so far
        before words are committed from its first pass: once the oldest pending word is
        half way to its deadline (a unit that ends sooner is re-decoded at its end)."""
        if not self._milestones or not self._provisional:
            return
        heard = self._cmn.heard + len(self._unit.audio) / (2 * SAMPLE_RATE)
        if heard < self._milestones[0]:
            return
        if now - self._provisional[0].end_time < self._policy.budget / 2:
            return
        while self._milestones and heard >= self._milestones[0]:
            self._milestones.pop(0)
        self._retune(now)
        self._provisional = self._uncommitted(self._unit.first_pass(now))

    def _anchor(self) -> float:
        """Where re-decoding starts: the unit's start, or (once some of its words are
        final) :data:`RETUNE_CONTEXT` before its oldest pending word."""
        unit_start = self._unit.start_sample / SAMPLE_RATE
        if self._provisional and self._committed_until > unit_start:
            return max(unit_start, self._provisional[0].start_time - RETUNE_CONTEXT)
        return unit_start

    def _retune(self, now: float) -> None:
        """Re-decode the pending part of the unit with the best mean, if that moved and
        the oldest pending word's deadline leaves the time.

        Nothing pending (the first pass heard no word since the last commit): nothing to
        improve, and the work would only delay the words that follow. The deadline is
        checked before the mean is measured, as measuring costs CPU too.
        """
        if not self._provisional:
            return
        anchor = self._anchor()
        if not self._policy.can_redecode(self._provisional, now, now - anchor):
            return
        mean = self._unit.estimate()
        if moved(self._unit.mean, mean):
            self._unit.retune(mean, round(anchor * SAMPLE_RATE))

    # ------------------------------------------------------------------ units

    def _end_unit(self) -> None:
        """End the unit and commit all its words."""
        now = self._now()
        self._provisional = self._uncommitted(self._unit.first_pass(now))
        self._retune(now)
        audio = bytes(self._unit.audio)
        words = self._unit.finish()
        if words:  # a unit without words (noise) says nothing about the speech's mean
            self._cmn.close(audio)
        self._commit(words)
        self._provisional = ()

    def _cut(self, now: float) -> int:
        """End the unit, commit up to the policy's cut (a pause), re-decode what follows.

        Returns how many words were committed.
        """
        self._retune(now)
        unit = self._unit
        unit_start, audio = unit.start_sample, bytes(unit.audio)
        words = unit.finish()
        cut = self._policy.choose_cut(words, now)
        committed = self._commit(w for w in words if w.end_time <= cut + 1e-6)
        rest = tuple(w for w in words if w.end_time > cut + 1e-6)
        resume = cut if not rest else max(cut, rest[0].start_time - CUT_PREROLL)
        resume_at = max(unit_start, min(round(resume * SAMPLE_RATE), self._segmenter.position))
        split = (resume_at - unit_start) * 2
        self._cmn.close(audio[:split])  # its words are final
        unit.start(resume_at, audio[split:])
        self._provisional = rest  # shown as the partial until the re-decoding catches up
        return committed

    def _restart_idle_unit(self) -> None:
        self._commit(self._unit.finish())
        audio = bytes(self._unit.audio)
        keep = min(len(audio), round(IDLE_RESTART_CONTEXT * SAMPLE_RATE) * 2)
        self._unit.start(self._segmenter.position - keep // 2, audio[len(audio) - keep :])

    def _close_utterance(self) -> None:
        if self._utterance_last_end is not None:
            self._ends.append(self._utterance_last_end)
            self._utterance_last_end = None

    # ------------------------------------------------------------------ words

    def _uncommitted(self, words: Iterable[Word]) -> tuple[Word, ...]:
        """Words not covered by the finals already sent (judged by their middle)."""
        return tuple(w for w in words if (w.start_time + w.end_time) / 2 > self._committed_until)

    def _commit(self, words: Iterable[Word]) -> int:
        """Make ``words`` final (skipping any already covered); returns how many."""
        count = 0
        for word in self._uncommitted(words):
            start = max(word.start_time, self._committed_until)
            end = max(word.end_time, start)
            speaker = None
            if self._diarizer is not None:
                speaker = self._diarizer.label(start, end)
            final = Word(word.content, start, end, word.confidence, speaker)
            self._finals.append(final)
            self._committed_until = end
            self._utterance_last_end = end
            count += 1
        return count

    def _update(self) -> Update:
        finals, self._finals = tuple(self._finals), []
        ends, self._ends = tuple(self._ends), []
        partial = self._provisional if self._unit.in_unit else ()
        partial = tuple(
            Word(w.content, w.start_time, w.end_time, 1.0)
            for w in partial
            if w.start_time >= self._committed_until - 1e-6
        )
        if self._diarizer is not None:
            partial = tuple(
                Word(w.content, w.start_time, w.end_time, w.confidence, self._diarizer.peek())
                for w in partial
            )
        return Update(finals, partial, self._now(), ends)
