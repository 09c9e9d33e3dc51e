"""Whole-file recognition with the server's engine: the accuracy reference for ``max_delay``.

:func:`recognize` runs :class:`~smnb.server.pocketsphinx.recognizer.PocketsphinxRecognizer`
over a whole file with no latency limit: the same VAD segmentation, decoder configuration
and cepstral-mean measurement as a live session, but every utterance is decoded whole
(again, if its own audio moved the mean) and rescored by bestpath before any word is
committed. That is what "batch" means for this engine, and
what a live session with ``max_delay`` 4 reproduces exactly whenever no utterance is
longer than its deadline allows (and approximates otherwise).

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import dataclasses
import math
from os import PathLike
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile
import soxr

from smnb.server.pocketsphinx.recognizer import PocketsphinxRecognizer
from smnb.server.recognizer import SAMPLE_RATE, RecognizerSettings, Samples, Word

NO_DEADLINE = RecognizerSettings(max_delay=math.inf, max_delay_mode="fixed")
"""Settings under which no word is ever committed before its utterance ends."""


def load_audio(path: str | PathLike[str]) -> Samples:
    """A sound file as 16 kHz mono int16 (channels averaged, resampled if needed)."""
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    mono: npt.NDArray[np.float32] = data.mean(axis=1)
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE)
    return as_int16(mono)


def as_int16(audio: npt.NDArray[Any]) -> Samples:
    """int16 as is; floats in [-1, 1] scaled and clipped."""
    if audio.dtype == np.int16:
        return audio
    scaled = np.clip(np.rint(np.asarray(audio, dtype=np.float64) * 32767.0), -32768, 32767)
    return scaled.astype(np.int16)


def recognize(
    audio: str | PathLike[str] | npt.NDArray[Any],
    *,
    decoder: Any = None,
    settings: RecognizerSettings = NO_DEADLINE,
) -> list[Word]:
    """Every word of a file or a 16 kHz mono array, decoded with no latency limit.

    ``decoder``: a loaded ``pocketsphinx.Decoder`` to use (default: this process's cached
    one, as a live session would; its state does not matter). ``settings`` may add
    vocabulary or diarization; its ``max_delay`` is ignored.
    """
    samples = as_int16(audio) if isinstance(audio, np.ndarray) else load_audio(audio)
    if settings.max_delay != math.inf:
        settings = dataclasses.replace(settings, max_delay=math.inf, max_delay_mode="fixed")
    recognizer = PocketsphinxRecognizer(settings, decoder=decoder)
    try:
        words = list(recognizer.feed(samples).finals)
        words += recognizer.finish().finals
    finally:
        recognizer.close()
    return words
