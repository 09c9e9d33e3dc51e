"""Unsupervised online speaker diarization for one stream, with enrolled voices; no trained model.

Features per 10 ms frame come from :mod:`~smnb.server.pocketsphinx.voice_features`: MFCC
c1…c16, log energy (to find speech) and, for clearly voiced frames, log pitch.

A speaker is the mean of the standardised cepstra of the frames given to it plus the
median log pitch of its voiced frames. Words are labelled one by one, in time order, when
the recognizer commits them, from audio heard by then: the evidence for a word is the
speech of its *segment* (the stretch around it with no pause of :data:`PAUSE` or more),
from the segment start up to what has been heard, at most :data:`MAX_EVIDENCE` seconds.
Its distance to a speaker is

    D = √((d_cep / T_cep)² + (d_pitch / T_pitch)²)

where d_cep is the RMS difference of standardised cepstral means and d_pitch the
difference of median log pitch. D ≤ 1 means "same speaker". The current speaker is kept
unless the evidence is at least :data:`MIN_EVIDENCE` of speech and D > 1 (speakers rarely
change inside a phrase, and a short window is noisy); then the closest speaker with D ≤ 1
is chosen, else a new one while fewer than ``max_speakers`` exist, else the closest.
``prefer_current_speaker`` keeps the current speaker up to D ≤ :data:`PREFER_KEEP`.

The thresholds were set on single-speaker streams built from the bundled clips
(each reader alone, no turn labels involved): the largest within-speaker distances seen
there were d_cep ≈ 0.4–0.5 and d_pitch ≈ 0.2–0.36, so T_cep = 0.6 and T_pitch = 0.45.
``speaker_sensitivity`` s ∈ [0, 1] scales both by 2^(0.5 − s): ×1 at the default 0.5,
×0.71 at 1 (more speakers), ×1.41 at 0. Known limit: two voices of the same sex on the
same channel are often merged (pitch cannot help, and cepstral means overlap).

Speaker identification: :meth:`OnlineDiarizer.speakers` returns each speaker's model as a
:class:`~smnb.server.voiceprint.Voiceprint` identifier; a later session given it (in
``known``, with a label) starts with that model under that label. Enrolled voices are
candidates like the others, matched at D ≤ :data:`KNOWN_MATCH`, but only from
:data:`MIN_EVIDENCE` of speech (a first short word would be a guess). A generic speaker
whose own model, after :data:`MERGE_EVIDENCE` of speech, lies within :data:`KNOWN_MATCH` of
an enrolled voice is that voice from then on (its later words carry the enrolled label).
``max_speakers`` counts generic speakers only, as in the service.

Labels are ``S1``, ``S2``, … in order of first appearance in the words.

Must not import: asyncio, websockets, pandas, pocketsphinx, anything from ``smnb.session``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from smnb.server import voiceprint
from smnb.server.pocketsphinx.voice_features import FRAME_RATE, N_CEPS, Floats, FrameFeatures
from smnb.server.recognizer import RecognizerSettings
from smnb.server.voiceprint import Voiceprint

SPEECH_DB = 12.0
"""A frame is speech when its energy is this far above the noise floor (10th percentile of
the last :data:`FLOOR_WINDOW` frames)."""
FLOOR_WINDOW = 3000

PAUSE = 0.25
"""Non-speech this long ends a segment (turns change at pauses)."""
MIN_EVIDENCE = 0.8
"""Seconds of speech needed before a speaker change is considered."""
MAX_EVIDENCE = 6.0
"""Seconds of a segment, before and after a word, that may describe its speaker."""

T_CEPSTRAL = 0.6
T_PITCH = 0.45
DEFAULT_MAX_SPEAKERS = 8
"""Cap when ``max_speakers`` is not given."""

PREFER_KEEP = 1.25
"""With ``prefer_current_speaker``, the current speaker is kept while D ≤ this (else 1).
Measured on the bundled readers at max_delay 2: one reader alone is split in two labels
without it and kept as one with it; the man/woman stream keeps 4 of its 5 true changes."""
KNOWN_MATCH = 1.0
"""D at most this to an enrolled voice is that voice. Measured with ~15 s enrolments from the
bundled readers: 7 of 9 other clips of the same reader found, 0 of 9 of the other reader."""
MERGE_EVIDENCE = 2.0
"""Seconds of a generic speaker's speech before its model is compared with enrolled voices."""
ENROLLED_FRAMES = 3000
"""An enrolled voiceprint counts as at most this many frames (30 s), so the session adapts it."""


@dataclass(slots=True)
class Evidence:
    """Speech frames describing a voice: cepstra sums and voiced log pitches."""

    n: int = 0
    total: Floats = field(default_factory=lambda: np.zeros(N_CEPS))
    pitches: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, ceps: Floats, pitch: Floats) -> Evidence:
        voiced = pitch[~np.isnan(pitch)]
        return cls(len(ceps), ceps.sum(axis=0), [float(p) for p in voiced])

    @classmethod
    def enrolled(cls, print_: Voiceprint) -> Evidence:
        n = max(1, min(print_.frames, ENROLLED_FRAMES))
        mean = np.asarray(print_.cepstra, dtype=np.float64)
        return cls(n, mean * n, [float(p) for p in print_.pitches] * 10)

    def add(self, other: Evidence) -> None:
        self.n += other.n
        self.total = self.total + other.total
        self.pitches.extend(other.pitches)
        del self.pitches[:-3000]  # recent voice is enough for a median

    def mean(self) -> Floats:
        return self.total / max(self.n, 1)

    def pitch(self) -> float | None:
        return float(np.median(self.pitches)) if len(self.pitches) >= 10 else None

    def voiceprint(self) -> Voiceprint:
        deciles: tuple[float, ...] = ()
        if len(self.pitches) >= 10:
            deciles = tuple(float(q) for q in np.quantile(self.pitches, np.linspace(0.1, 0.9, 9)))
        return Voiceprint(self.n, tuple(float(c) for c in self.mean()), deciles)


class _Standardiser:
    """Running mean and spread of every speech frame's cepstra (the scale of d_cep)."""

    def __init__(self) -> None:
        self.n = 0
        self.total = np.zeros(N_CEPS)
        self.squares = np.zeros(N_CEPS)

    def add(self, ceps: Floats) -> None:
        self.n += len(ceps)
        self.total += ceps.sum(axis=0)
        self.squares += (ceps**2).sum(axis=0)

    def scale(self) -> Floats:
        mean = self.total / max(self.n, 1)
        return np.sqrt(np.maximum(self.squares / max(self.n, 1) - mean**2, 1e-6))


class OnlineDiarizer:
    """Speaker labels for words, decided as they are committed; see the module docstring.

    Args:
        max_speakers: cap on generic (not enrolled) speakers.
        sensitivity: ``speaker_sensitivity``; higher finds more speakers.
        prefer_current: ``prefer_current_speaker``.
        known: enrolled voices, ``(label, voiceprint)``; a label may have several.
    """

    def __init__(
        self,
        max_speakers: int | None = None,
        sensitivity: float = 0.5,
        *,
        prefer_current: bool = False,
        known: Sequence[tuple[str, Voiceprint]] = (),
    ) -> None:
        self.max_speakers = max(1, max_speakers or DEFAULT_MAX_SPEAKERS)
        scale = 2.0 ** (0.5 - min(1.0, max(0.0, sensitivity)))
        self.t_cepstral = T_CEPSTRAL * scale
        self.t_pitch = T_PITCH * scale
        self.keep = PREFER_KEEP if prefer_current else 1.0
        self._features = FrameFeatures()
        self._spread = _Standardiser()
        self._seen_until = 0  # frames already counted in the spread
        self._speakers = [Evidence.enrolled(print_) for _, print_ in known]
        self._enrolled = len(self._speakers)
        self._labels: dict[int, str] = {i: label for i, (label, _) in enumerate(known)}
        self._merged: dict[int, int] = {}  # generic speaker → the enrolled voice it proved to be
        self._heard: set[int] = set()  # speakers that labelled a word
        self._generic_names = 0
        self._current: int | None = None

    @classmethod
    def for_settings(cls, settings: RecognizerSettings) -> OnlineDiarizer:
        """The diarizer ``StartRecognition`` asked for (identifiers were checked there)."""
        known = [
            (label, voiceprint.decode(identifier))
            for label, identifiers in settings.known_speakers
            for identifier in identifiers
        ]
        return cls(
            settings.max_speakers,
            settings.speaker_sensitivity,
            prefer_current=settings.prefer_current_speaker,
            known=known,
        )

    def push(self, samples: npt.NDArray[np.int16]) -> None:
        """Append the stream's next samples (all of them, speech or not)."""
        self._features.push(samples)

    def label(self, start: float, end: float) -> str:
        """The speaker of the word spanning ``start``–``end`` seconds; call in time order."""
        feats = self._features
        self._count_new_speech()
        lo, hi = self._segment(int(start * FRAME_RATE), math.ceil(end * FRAME_RATE))
        speech = self._speech_mask(lo, hi)
        window = Evidence.of(feats.ceps(lo, hi)[speech], feats.pitch(lo, hi)[speech])
        if self._current is None:
            chosen = self._first(window)
        elif window.n < MIN_EVIDENCE * FRAME_RATE:
            chosen = self._current
        else:
            chosen = self._choose(window)
        own_lo, own_hi = int(start * FRAME_RATE), math.ceil(end * FRAME_RATE)
        own = self._speech_mask(own_lo, own_hi)
        self._speakers[chosen].add(
            Evidence.of(feats.ceps(own_lo, own_hi)[own], feats.pitch(own_lo, own_hi)[own])
        )
        self._current = chosen
        self._heard.add(chosen)
        label = self._name(chosen)
        self._identify()
        feats.forget_before(int((start - 2 * MAX_EVIDENCE) * FRAME_RATE))
        return label

    def peek(self) -> str | None:
        """The current speaker's label (for partials), or None before the first word."""
        return None if self._current is None else self._name(self._current)

    def speakers(self) -> dict[str, list[str]]:
        """Label → identifiers of the speakers heard: voiceprints to enrol in a later session."""
        out: dict[str, list[str]] = {}
        for index, label in self._labels.items():
            model = self._speakers[index]
            if index in self._heard and index not in self._merged:
                out.setdefault(label, []).append(voiceprint.encode(model.voiceprint()))
        return out

    def distance(self, window: Evidence, speaker: Evidence) -> float:
        """D between some speech and a speaker model (≤ 1: same voice)."""
        d_cep = float(
            np.sqrt(np.mean(((window.mean() - speaker.mean()) / self._spread.scale()) ** 2))
        )
        d = (d_cep / self.t_cepstral) ** 2
        mine, theirs = window.pitch(), speaker.pitch()
        if mine is not None and theirs is not None:
            d += ((mine - theirs) / self.t_pitch) ** 2
        return math.sqrt(d)

    # ------------------------------------------------------------------ internals

    def _first(self, window: Evidence) -> int:
        if self._enrolled and window.n >= MIN_EVIDENCE * FRAME_RATE:
            known = [self.distance(window, self._speakers[i]) for i in range(self._enrolled)]
            best = int(np.argmin(known))
            if known[best] <= KNOWN_MATCH:
                return best
        return self._new_speaker(window)

    def _choose(self, window: Evidence) -> int:
        assert self._current is not None
        if self.distance(window, self._speakers[self._current]) <= self.keep:
            return self._current
        live = [i for i in range(len(self._speakers)) if i not in self._merged]
        distances = {i: self.distance(window, self._speakers[i]) for i in live}
        matches = [i for i in live if distances[i] <= self._match(i)]
        if matches:
            return min(matches, key=distances.__getitem__)
        generic = [i for i in live if i >= self._enrolled]
        if len(generic) >= self.max_speakers:
            return min(generic, key=distances.__getitem__)
        return self._new_speaker(window)

    def _match(self, index: int) -> float:
        return KNOWN_MATCH if index < self._enrolled else 1.0

    def _identify(self) -> None:
        """A generic current speaker heard long enough may prove to be an enrolled voice."""
        current = self._current
        if current is None or current < self._enrolled:
            return
        model = self._speakers[current]
        if model.n < MERGE_EVIDENCE * FRAME_RATE or not self._enrolled:
            return
        known = [self.distance(model, self._speakers[i]) for i in range(self._enrolled)]
        best = int(np.argmin(known))
        if known[best] <= KNOWN_MATCH:
            self._speakers[best].add(model)
            self._merged[current] = best
            self._current = best
            self._heard.add(best)

    def _new_speaker(self, seed: Evidence) -> int:
        # Seed the model with the window that called for it: one word alone is too thin.
        self._speakers.append(Evidence(seed.n, seed.total.copy(), list(seed.pitches)))
        return len(self._speakers) - 1

    def _name(self, index: int) -> str:
        index = self._merged.get(index, index)
        if index not in self._labels:
            self._generic_names += 1
            self._labels[index] = f"S{self._generic_names}"
        return self._labels[index]

    def _floor(self) -> float:
        feats = self._features
        recent = feats.energy(feats.end - FLOOR_WINDOW, feats.end)
        return float(np.percentile(recent, 10)) if len(recent) else 0.0

    def _speech_mask(self, lo: int, hi: int) -> npt.NDArray[np.bool_]:
        return np.asarray(self._features.energy(lo, hi) > self._floor() + SPEECH_DB)

    def _count_new_speech(self) -> None:
        feats = self._features
        lo, hi = max(self._seen_until, feats.first), feats.end
        if hi > lo:
            self._spread.add(feats.ceps(lo, hi)[self._speech_mask(lo, hi)])
            self._seen_until = hi

    def _segment(self, lo: int, hi: int) -> tuple[int, int]:
        """Frames of the pause-free stretch around ``lo``…``hi`` heard so far (bounded)."""
        feats = self._features
        limit = int(MAX_EVIDENCE * FRAME_RATE)
        pause = int(PAUSE * FRAME_RATE)
        floor = self._floor()
        before = feats.energy(lo - limit, lo) > floor + SPEECH_DB
        after = feats.energy(hi, hi + limit) > floor + SPEECH_DB
        return lo - _run_before_pause(before[::-1], pause), hi + _run_before_pause(after, pause)


def _run_before_pause(speech: npt.NDArray[np.bool_], pause: int) -> int:
    """How many frames from the start of ``speech`` come before the first pause."""
    silent = 0
    for i, is_speech in enumerate(speech):
        silent = 0 if is_speech else silent + 1
        if silent >= pause:
            return i + 1 - silent
    return len(speech)
