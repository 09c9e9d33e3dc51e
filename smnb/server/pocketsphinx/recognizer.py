"""The pocketsphinx-backed :class:`~smnb.server.recognizer.Recognizer`.

One instance decodes one audio stream:

* Audio is split into 30 ms frames and segmented into utterances by
  :class:`~smnb.server.pocketsphinx.segmenter.SpeechSegmenter` (WebRTC VAD ``STRICT``, the
  ``pocketsphinx.Endpointer`` rule without its 0.3 s output delay). Only speech, with a
  short pre-roll, is decoded.
* The speech since the last cut is decoded incrementally as one pocketsphinx utterance,
  a *unit*: ``fwdtree`` first pass while it grows, ``bestpath`` lattice search (with word
  posteriors) when it ends.
* After each frame :class:`~smnb.server.pocketsphinx.commit_policy.CommitPolicy` checks the
  first-pass words against ``max_delay``. A due word is committed either by cutting the unit at a
  pause (its words then get bestpath + posteriors, the rest is re-decoded) or, with no
  usable pause, straight from the first pass while the unit goes on. When the VAD hears
  the utterance end, the unit ends and all its remaining words become finals.
* ``confidence`` is the lattice posterior (clamped to 0–1) for bestpath finals and
  :data:`FIRST_PASS_CONFIDENCE` for first-pass commits, which have none. Partials are the
  unit's uncommitted first-pass words (``confidence`` 1.0, meaningless, as in the
  service). ``processed_until`` is the audio consumed. ``utterance_ends`` holds the end
  of the last word of each utterance closed by a pause, ``force_end_of_utterance`` or
  ``finish`` (nothing for an utterance without words).
* Deadlines are in audio time (a word is final at most ``max_delay`` − 0.15 s of audio
  after its end, leaving room for 100 ms feeds and processing), so the output does not
  depend on feed sizes: real time or as fast as possible give the same words. When no
  word had to be committed before its utterance ended (:attr:`early_commits` stays 0,
  typical at ``max_delay`` 4 for utterances under ~3.8 s), the finals are exactly those
  of :func:`smnb.server.pocketsphinx.batch.recognize`.

The loaded decoder (≈0.5 s to load, ~100 MB) is cached per process and handed to the next
recognizer, carrying its live cepstral mean (CMN) over
(:mod:`~smnb.server.pocketsphinx.decoder`): a fresh decoder normalises its first utterance
with a generic prior and garbles it. A session that added ``additional_vocab`` words leaves
its decoder dirty, so it is dropped rather than reused (the next one is loaded with the
carried CMN).

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import numpy as np

from smnb.server.pocketsphinx.commit_policy import CommitPolicy
from smnb.server.pocketsphinx.decoder import CACHE
from smnb.server.pocketsphinx.diarization import OnlineDiarizer
from smnb.server.pocketsphinx.segmenter import FRAME_BYTES, Event, SpeechSegmenter
from smnb.server.pocketsphinx.vocabulary import plan
from smnb.server.recognizer import (
    SAMPLE_RATE,
    MaxDelayMode,
    RecognizerSettings,
    Samples,
    Update,
    Word,
)

FRAME_RATE = 100
"""pocketsphinx feature frames per second."""

MAX_UNIT_SECONDS = 12.0
"""A unit is cut once it is this long, so decoding state stays bounded in speech with no
pause; one with no word at all (noise the VAD calls speech) is restarted keeping only the
last :data:`IDLE_RESTART_CONTEXT` seconds."""

IDLE_RESTART_CONTEXT = 0.3

END_PADDING = 0.2
"""Seconds of digital silence decoded before ending a unit, so the search can reach the
end-of-sentence node: without it, ending in mid-speech makes bestpath fail now and then
("Failed to find DAG node corresponding to </s>", 5 of 104 random cut points measured)."""

CUT_PREROLL = 0.15
"""After a cut at a pause, re-decoding starts this long before the next word rather than
right after the committed one: a long silence at the start of a unit, heard with a fresh
language-model history, invites an inserted "i" or "the"."""

FIRST_PASS_CONFIDENCE = 0.5
"""Confidence of a word committed from the first pass. pocketsphinx has no posterior for it
(``seg.prob`` is a constant 1.0 mid-utterance), so it gets the uninformative middle of the
scale rather than a made-up number; the bestpath finals carry real lattice posteriors."""

# --------------------------------------------------------------------------- helpers


def is_word(token: str) -> bool:
    """False for pocketsphinx fillers: ``<s>``, ``</s>``, ``<sil>``, ``[NOISE]``, ``++UH++``."""
    return bool(token) and token[0] not in "<[+"


def base_word(token: str) -> str:
    """``read(2)`` → ``read``: drop the alternative-pronunciation suffix."""
    cut = token.find("(")
    return token[:cut] if cut > 0 else token


def _clamp01(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


def _without_posterior(words: Iterable[Word]) -> tuple[Word, ...]:
    return tuple(Word(w.content, w.start_time, w.end_time, FIRST_PASS_CONFIDENCE) for w in words)


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
        self._add_vocabulary()
        self._diarizer = (
            OnlineDiarizer.for_settings(settings) if settings.speaker_diarization else None
        )
        self._leftover = b""  # input bytes short of a whole frame
        self._in_unit = False
        self._unit_start = 0  # stream sample where the current unit's audio starts
        self._unit_audio = bytearray()  # the unit's audio, for re-decoding after a cut
        self._unit_cmn = ""  # cepstral mean when the unit started
        self._replay = b""  # unit audio still to be decoded (deferred after a cut)
        self._provisional: tuple[Word, ...] = ()  # the unit's current first-pass words
        self._committed_until = 0.0
        self._utterance_last_end: float | None = None
        self._finals: list[Word] = []
        self._ends: list[float] = []
        self._closed = False
        self.search_failures = 0
        """Units whose bestpath search failed (their words fell back to the first pass)."""
        self.early_commits = 0
        """Words committed before their utterance ended (at a cut, or from the first pass)."""

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
        if self._in_unit:
            self._end_unit()
            self._close_utterance()
            if self._segmenter.in_speech:
                self._start_unit(self._segmenter.position)
        return self._update()

    def finish(self) -> Update:
        """Decode what is left (a partial frame is padded with silence) and commit everything."""
        if self._leftover:
            pad = FRAME_BYTES - len(self._leftover)
            frame, self._leftover = self._leftover + bytes(pad), b""
            if self._diarizer is not None:
                self._diarizer.push(np.frombuffer(frame, dtype="<i2"))
            self._push_frame(frame)
        if self._in_unit:
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
        if self._in_unit:
            self._decoder.end_utt()
            self._in_unit = False
        if self._owns_cached:
            CACHE.give_back(self._decoder, dirty=bool(self._vocab_tokens))

    # ------------------------------------------------------------------ frame loop

    def _push_frame(self, frame: bytes) -> None:
        step = self._segmenter.push(frame)
        if step.event is Event.SILENCE:
            return
        if step.event is Event.START:
            self._utterance_last_end = None
            self._start_unit(step.audio_start)
        elif not self._in_unit:  # speech continuing after a forced end
            self._start_unit(step.audio_start)
        self._decode(step.audio)
        if step.event is Event.END:
            self._end_unit()
            self._close_utterance()
            return
        self._check_deadline()

    def _check_deadline(self) -> None:
        now = self._segmenter.position / SAMPLE_RATE
        heard = self._first_pass_words()
        self._provisional = self._uncommitted(heard)
        if self._policy.is_due(self._provisional, now):
            if self._policy.find_pause(self._provisional, now) is not None:
                self.early_commits += self._cut(now)
            else:
                due = _without_posterior(self._policy.due_words(self._provisional, now))
                self.early_commits += self._commit(due)
                self._provisional = self._uncommitted(self._provisional)
        elif now - self._unit_start / SAMPLE_RATE > MAX_UNIT_SECONDS:
            if heard:
                self.early_commits += self._cut(now)
            else:
                self._restart_idle_unit()

    # ------------------------------------------------------------------ units

    def _start_unit(self, start_sample: int, audio: bytes = b"") -> None:
        self._unit_start = start_sample
        self._unit_audio = bytearray(audio)
        self._replay = audio
        self._provisional = ()
        self._unit_cmn = self._decoder.get_cmn()
        self._decoder.start_utt()
        self._in_unit = True

    def _decode(self, audio: bytes) -> None:
        if self._replay:
            replay, self._replay = self._replay, b""
            self._decoder.process_raw(replay)
        if audio:
            self._decoder.process_raw(audio)
            self._unit_audio += audio

    def _end_unit(self) -> None:
        """End the unit and commit all its words."""
        self._commit(self._finish_search())
        self._provisional = ()

    def _finish_search(self) -> tuple[Word, ...]:
        """End the pocketsphinx utterance; its bestpath words with posteriors.

        If bestpath still finds no path, the first-pass words are returned instead.
        """
        self._decode(b"")
        first_pass = self._first_pass_words()
        self._decoder.process_raw(bytes(2 * round(END_PADDING * SAMPLE_RATE)))
        self._decoder.end_utt()
        self._in_unit = False
        words = self._bestpath_words()
        if not words and first_pass and self._decoder.hyp() is None:
            self.search_failures += 1
            words = _without_posterior(first_pass)
        return words

    def _cut(self, now: float) -> int:
        """End the unit, commit up to the policy's cut (a pause), re-decode what follows.

        Returns how many words were committed.
        """
        words = self._finish_search()
        cut = self._policy.choose_cut(words, now)
        committed = self._commit(w for w in words if w.end_time <= cut + 1e-6)
        rest = tuple(w for w in words if w.end_time > cut + 1e-6)
        # Re-decode from the cut with the cepstral mean the unit started with, so the
        # re-heard audio is not normalised by statistics that already counted it.
        resume = cut if not rest else max(cut, rest[0].start_time - CUT_PREROLL)
        resume_at = round(resume * SAMPLE_RATE)
        resume_at = max(self._unit_start, min(resume_at, self._segmenter.position))
        audio = bytes(self._unit_audio[(resume_at - self._unit_start) * 2 :])
        self._decoder.set_cmn(self._unit_cmn)
        self._start_unit(resume_at, audio)
        self._provisional = rest  # shown as the partial until the re-decoding catches up
        return committed

    def _restart_idle_unit(self) -> None:
        self._commit(self._finish_search())
        keep = min(len(self._unit_audio), round(IDLE_RESTART_CONTEXT * SAMPLE_RATE) * 2)
        audio = bytes(self._unit_audio[len(self._unit_audio) - keep :])
        self._start_unit(self._segmenter.position - keep // 2, audio)

    def _close_utterance(self) -> None:
        if self._utterance_last_end is not None:
            self._ends.append(self._utterance_last_end)
            self._utterance_last_end = None

    # ------------------------------------------------------------------ words

    def _first_pass_words(self) -> tuple[Word, ...]:
        return self._words(self._decoder.seg(), with_confidence=False)

    def _bestpath_words(self) -> tuple[Word, ...]:
        return self._words(self._decoder.seg(), with_confidence=True)

    def _words(self, segments: Iterable[Any] | None, *, with_confidence: bool) -> tuple[Word, ...]:
        offset = self._unit_start / SAMPLE_RATE
        out: list[Word] = []
        for seg in segments or ():
            if not is_word(seg.word):
                continue
            token = base_word(seg.word)
            out.append(
                Word(
                    content=self._vocab_tokens.get(token, token),
                    start_time=round(offset + seg.start_frame / FRAME_RATE, 3),
                    end_time=round(offset + (seg.end_frame + 1) / FRAME_RATE, 3),
                    confidence=_clamp01(seg.prob) if with_confidence else 1.0,
                )
            )
        return tuple(out)

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
        partial = self._provisional if self._in_unit else ()
        partial = tuple(w for w in partial if w.start_time >= self._committed_until - 1e-6)
        if self._diarizer is not None:
            partial = tuple(
                Word(w.content, w.start_time, w.end_time, w.confidence, self._diarizer.peek())
                for w in partial
            )
        return Update(finals, partial, self._segmenter.position / SAMPLE_RATE, ends)

    # ------------------------------------------------------------------ vocabulary

    def _add_vocabulary(self) -> None:
        if not self.settings.additional_vocab:
            return
        vocab = plan(self.settings.additional_vocab, self._decoder.lookup_word)
        skipped = list(vocab.skipped)
        additions: list[tuple[str, str]] = []
        for planned in vocab.words:
            if self._decoder.lookup_word(planned.token):
                skipped.append(planned.content)  # would clash with an existing dictionary word
                continue
            for i, phones in enumerate(planned.pronunciations):
                additions.append((planned.token if i == 0 else f"{planned.token}({i + 1})", phones))
            self._vocab_tokens[planned.token] = planned.content
        for i, (name, phones) in enumerate(additions):
            # Rebuilding the search is slow: do it once, with the last word.
            self._decoder.add_word(name, phones, update=i == len(additions) - 1)
        self.skipped_vocab = tuple(skipped)
