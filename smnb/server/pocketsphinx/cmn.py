"""The session's cepstral mean (CMN), measured on the session's own audio.

pocketsphinx's acoustic model was trained on cepstra normalised by the mean of each whole
utterance (``-cmn batch`` in its ``feat.params``). A live decoder has to guess that mean
before it has heard the audio: it starts from the model's generic prior (``cmninit``
40,3,-1) and updates it slowly, so the opening of every stream is decoded with a mean that
is far off. Measured on the bundled clips, each decoded whole: WER 0.37 from the prior,
0.23 from each clip's own batch mean.

So the recognizer measures the mean itself, exactly as the front end computes it:

* :class:`CmnMeter` runs pocketsphinx's front end over a stretch of audio in batch mode
  (a second, tiny decoder: the acoustic model and a one-word grammar, ~6 MB, CPU ≈ 0.6 %
  of the audio's duration) and returns the mean and the number of frames;
* :class:`SessionCmn` pools the means of the session's closed speech (frame-weighted)
  and, for an open unit, adds the unit's audio so far. Nothing else goes in: the
  estimate is a function of this session's audio alone, so every session starts from
  the same state, whatever ran before.

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pocketsphinx import Decoder

Vector = npt.NDArray[np.float64]

INITIAL_CMN = "40,3,-1,0,0,0,0,0,0,0,0,0,0"
"""The acoustic model's generic prior (pocketsphinx's ``cmninit``), for audio not yet heard."""

MOVED = 2.0
"""Euclidean distance between two means beyond which re-decoding is worth it. Measured on
the bundled clips, shifting the right mean by 1–2 in c0, or by 1 in every other
coefficient, costs < 1 WER point; the prior is 10–25 away from a typical recording's mean."""

_GRAMMAR = "#JSGF V1.0;\ngrammar meter;\npublic <meter> = hello;\n"
_DICTIONARY = "hello HH AH L OW\n"


def as_vector(cmn: str) -> Vector:
    """pocketsphinx's comma-separated mean → a vector."""
    return np.array([float(x) for x in cmn.split(",")], dtype=np.float64)


def as_string(vector: Vector) -> str:
    """A vector → pocketsphinx's comma-separated form (rounded, so it is reproducible)."""
    return ",".join(f"{x:.4f}" for x in vector)


def moved(a: Vector, b: Vector) -> bool:
    """Whether decoding with ``b`` instead of ``a`` is expected to change the words."""
    return float(np.linalg.norm(a - b)) > MOVED


class CmnMeter:
    """Batch cepstral means of audio, from pocketsphinx's own front end."""

    def __init__(self) -> None:
        with tempfile.TemporaryDirectory(prefix="smnb-meter-") as tmp:
            grammar, dictionary = Path(tmp, "meter.gram"), Path(tmp, "meter.dict")
            grammar.write_text(_GRAMMAR, encoding="ascii")
            dictionary.write_text(_DICTIONARY, encoding="ascii")
            # Same acoustic model and front end as the recognizer's decoder; no language model.
            self._decoder: Any = Decoder(
                lm=None, jsgf=str(grammar), dict=str(dictionary), loglevel="FATAL"
            )

    def measure(self, audio: bytes) -> tuple[Vector, int]:
        """The batch mean of 16 kHz int16 ``audio`` and its number of frames.

        ``reinit_feat`` gives a fresh front end each time (batch CMN, no noise estimate
        left from earlier audio); ``no_search`` skips all decoding but the trivial grammar's.
        """
        decoder = self._decoder
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(audio, no_search=True, full_utt=True)
        mean = as_vector(decoder.get_cmn())
        decoder.end_utt()
        return mean, int(decoder.n_frames())


_METER: CmnMeter | None = None
_METER_LOCK = threading.Lock()


def meter() -> CmnMeter:
    """This process's meter (loaded on first use, ≈40 ms)."""
    global _METER
    with _METER_LOCK:
        if _METER is None:
            _METER = CmnMeter()
        return _METER


class SessionCmn:
    """The cepstral-mean estimate of one session: pooled closed speech plus the open unit."""

    def __init__(self, cmn_meter: CmnMeter, initial: str = INITIAL_CMN) -> None:
        self._meter = cmn_meter
        self._initial = as_vector(initial)
        self._sum = np.zeros_like(self._initial)
        self._frames = 0

    @property
    def heard(self) -> float:
        """Seconds of closed audio pooled so far."""
        return self._frames / 100

    def estimate(self, open_audio: bytes = b"") -> Vector:
        """The best mean now: closed speech pooled with ``open_audio`` (the prior if none)."""
        total, frames = self._sum, self._frames
        if open_audio:
            mean, n = self._meter.measure(open_audio)
            total, frames = total + mean * n, frames + n
        return total / frames if frames else self._initial.copy()

    def close(self, audio: bytes) -> None:
        """Pool ``audio`` (speech whose words are all final) into the estimate."""
        if len(audio) < 2 * 160 * 10:  # under 0.1 s: too little to measure
            return
        mean, n = self._meter.measure(audio)
        self._sum = self._sum + mean * n
        self._frames += n
