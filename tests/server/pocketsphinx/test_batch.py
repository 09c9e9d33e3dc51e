"""smnb.server.pocketsphinx.batch: whole-file recognition with the real engine, no deadline."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import soxr

from smnb.server.pocketsphinx import batch
from smnb.server.pocketsphinx.decoder import new_decoder
from smnb.server.recognizer import RecognizerSettings, Word
from tests.support.engine_audio import SAMPLES, clip, duration, reference

CLIP = "librispeech-1988-24833-0000"  # 3.3 s: "... kittens ..."


@pytest.fixture(scope="module")
def decoder() -> Any:
    return new_decoder()


@pytest.fixture(scope="module")
def words(decoder: Any) -> list[Word]:
    """The clip decoded from its file."""
    return batch.recognize(SAMPLES / f"{CLIP}.wav", decoder=decoder)


def test_a_real_clip_gives_its_words_inside_the_clip(words: list[Word]) -> None:
    spoken = reference(CLIP).lower().split()
    heard = [w.content.lower() for w in words]
    overlap = sum(min(heard.count(t), spoken.count(t)) for t in set(heard))
    assert overlap >= 0.6 * len(spoken), (heard, spoken)
    assert "kittens" in heard
    end = duration(CLIP) + 0.01
    for word in words:
        assert 0.0 <= word.start_time < word.end_time <= end, word
        assert 0.0 <= word.confidence <= 1.0
    starts = [w.start_time for w in words]
    assert starts == sorted(starts)
    assert all(a.end_time <= b.start_time + 1e-9 for a, b in itertools.pairwise(words))


def test_samples_give_the_files_words_and_a_finite_max_delay_is_ignored(
    decoder: Any, words: list[Word]
) -> None:
    samples = clip(CLIP)
    as_float = samples.astype(np.float32) / 32767.0  # floats in [-1, 1] are scaled back
    assert np.array_equal(batch.as_int16(as_float), samples)
    hurried = RecognizerSettings(max_delay=0.7, max_delay_mode="fixed")
    assert batch.recognize(as_float, decoder=decoder, settings=hurried) == words


def test_no_deadline_means_infinite_and_fixed() -> None:
    assert math.isinf(batch.NO_DEADLINE.max_delay)
    assert batch.NO_DEADLINE.max_delay_mode == "fixed"


def test_load_audio_averages_channels_and_resamples_to_16k(tmp_path: Path) -> None:
    mono = clip(CLIP).astype(np.float32) / 32768.0
    at_44k = soxr.resample(mono, 16000, 44100)
    stereo = np.stack([at_44k, at_44k * 0.5], axis=1)
    path = tmp_path / "stereo-44k.wav"
    sf.write(path, stereo, 44100, subtype="FLOAT")
    loaded = batch.load_audio(path)
    assert loaded.dtype == np.int16
    assert abs(len(loaded) - len(mono)) <= 2
    n = min(len(loaded), len(mono))
    expected = mono[:n] * 0.75
    assert np.corrcoef(loaded[:n].astype(np.float64), expected)[0, 1] > 0.99
    level = np.sqrt(np.mean((loaded[:n] / 32767.0) ** 2)) / np.sqrt(np.mean(expected**2))
    assert abs(level - 1.0) < 0.02


def test_as_int16_keeps_int16_and_clips_floats() -> None:
    samples = np.array([0, 1, -32768, 32767], dtype=np.int16)
    assert batch.as_int16(samples) is samples
    loud = np.array([1.5, -1.5, 0.5, -1.0], dtype=np.float64)
    assert batch.as_int16(loud).tolist() == [32767, -32768, 16384, -32767]
