"""audio_filtering_config: the documented volume scale, gating, and word volume labels."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from smnb.server.audio.volume import CHUNK, VolumeGate, chunk_volumes
from tests.support import speech_session as speech
from tests.support.engine_audio import clip


def sine(amplitude: float, seconds: float = 0.1) -> np.ndarray:
    t = np.arange(round(seconds * 16000)) / 16000
    wave = np.sin(2 * np.pi * 400 * t)  # 400 Hz: whole periods in every 10 ms chunk
    return np.round(amplitude * 32767 * wave).astype(np.int16)


def test_volume_is_rms_as_a_percentage_of_full_scale() -> None:
    assert chunk_volumes(sine(1.0)) == pytest.approx(70.7, abs=0.2)  # full-scale sine
    assert chunk_volumes(sine(0.1)) == pytest.approx(7.07, abs=0.05)
    assert chunk_volumes(np.zeros(CHUNK * 3, np.int16)).tolist() == [0.0, 0.0, 0.0]
    square = np.full(CHUNK, -32768, dtype=np.int16)
    assert chunk_volumes(square) == pytest.approx(100.0)


def test_chunks_below_the_threshold_become_silence_whatever_the_pieces() -> None:
    audio = np.concatenate([sine(0.5), sine(0.01), sine(0.5)])  # loud, quiet, loud
    gate = VolumeGate(threshold=5.0)
    pieces = [audio[i : i + 777] for i in range(0, len(audio), 777)]  # not chunk-aligned
    out = np.concatenate([gate.push(p) for p in pieces[:-1]] + [gate.finish(pieces[-1])])
    assert len(out) == len(audio)
    quiet = slice(1600, 3200)
    assert not out[quiet].any() and np.array_equal(out[:1600], audio[:1600])
    assert np.array_equal(out[3200:], audio[3200:])
    assert gate.volume_between(0.0, 0.1) == pytest.approx(35.4, abs=0.2)
    assert gate.volume_between(0.1, 0.2) == pytest.approx(0.71, abs=0.05)


def test_without_the_option_audio_passes_at_once_and_untouched() -> None:
    gate, audio = VolumeGate(), sine(0.01, 0.0123)
    assert gate.push(audio) is audio and gate.volume_between(0.0, 0.01) is None
    zero = VolumeGate(threshold=0.0)  # volume labels only (docs: 0 or an empty object)
    kept = np.concatenate([zero.push(audio), zero.finish(audio[:0])])
    assert np.array_equal(kept, audio)


@cache
def quiet_speech() -> np.ndarray:
    """A bundled reader at −20 dB: volume 0.3 (median) to 0.9 (peaks) on the documented
    scale, which the recognizer still transcribes."""
    return np.round(clip("librivox-ss01-0880").astype(np.float64) * 0.1).astype(np.int16)


def test_on_speech_a_threshold_above_quiet_speech_leaves_no_words() -> None:
    quiet = quiet_speech()
    levels = chunk_volumes(quiet)
    assert levels.max() < 2.0  # the threshold below is above all of the speech
    without = speech.run(quiet, max_delay=2.0)
    assert len(speech.words(without)) >= 3  # the recognizer hears the quiet reader
    gated = speech.run(quiet, max_delay=2.0, audio_filtering_config={"volume_threshold": 2.0})
    assert speech.words(gated) == []
    # The same reader at full level passes the same threshold, each word labelled.
    loud = speech.run(clip("librivox-ss01-0880"), max_delay=2.0,
                      audio_filtering_config={"volume_threshold": 2.0})  # fmt: skip
    labelled = speech.results(loud, "word")
    assert len(labelled) >= 3
    assert all(
        0.0 < r["volume"] <= chunk_volumes(clip("librivox-ss01-0880")).max() for r in labelled
    )
    assert all("volume" not in r for r in speech.results(without, "word"))


def test_on_speech_the_threshold_can_change_mid_session() -> None:
    quiet = quiet_speech()
    set_high = {
        "message": "SetRecognitionConfig",
        "transcription_config": {"audio_filtering_config": {"volume_threshold": 2.0}},
    }
    # 0.4 s per frame: the reader starts speaking after ~0.3 s, the gate closes at 1.2 s.
    out = speech.run(quiet, chunk=12800, mid=[(3, set_high)], max_delay=2.0)
    words = speech.results(out, "word")
    assert words and all(r["start_time"] < 1.4 for r in words)
