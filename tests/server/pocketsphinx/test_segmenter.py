"""SpeechSegmenter on a real recording: utterances cover the speech, audio is handed on once."""

from __future__ import annotations

import json

import numpy as np
import soundfile

from smnb.server.pocketsphinx.segmenter import FRAME_BYTES, FRAME_SAMPLES, Event, SpeechSegmenter
from smnb.server.recognizer import SAMPLE_RATE
from tests.support.engine_audio import SAMPLES

NAME = "librivox-ss01-0870"
SILENCE_SECONDS = 1.5


def _frames(samples: np.ndarray) -> list[bytes]:
    data = np.ascontiguousarray(samples, dtype="<i2").tobytes()
    whole = len(data) - len(data) % FRAME_BYTES
    return [data[i : i + FRAME_BYTES] for i in range(0, whole, FRAME_BYTES)]


def _padded_recording() -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The recording between stretches of digital silence, and its word times (shifted)."""
    audio, rate = soundfile.read(SAMPLES / f"{NAME}.wav", dtype="int16")
    assert rate == SAMPLE_RATE
    pad = np.zeros(round(SILENCE_SECONDS * SAMPLE_RATE), dtype=np.int16)
    words = json.loads((SAMPLES / f"{NAME}.words.json").read_text(encoding="utf-8"))
    times = [(w["start"] + SILENCE_SECONDS, w["end"] + SILENCE_SECONDS) for w in words]
    return np.concatenate([pad, audio, pad]), times


def test_utterances_cover_every_word_and_no_audio_is_lost_or_repeated() -> None:
    samples, words = _padded_recording()
    segmenter = SpeechSegmenter()
    utterances: list[tuple[float, float]] = []
    handed_until: int | None = None  # the stream sample the decoder has been given up to
    start: float | None = None
    for frame in _frames(samples):
        step = segmenter.push(frame)
        assert segmenter.position % FRAME_SAMPLES == 0
        if step.event is Event.SILENCE:
            assert step.audio == b""
            continue
        if step.event is Event.START:
            start = step.audio_start / SAMPLE_RATE
            assert step.audio_start >= (handed_until or 0), "pre-roll re-sends decoded audio"
        else:
            assert step.audio_start == handed_until, "a gap or overlap inside an utterance"
        handed_until = step.audio_start + len(step.audio) // 2
        assert handed_until == segmenter.position, "audio handed on with a delay"
        if step.event is Event.END:
            assert start is not None
            utterances.append((start, handed_until / SAMPLE_RATE))
            start = None

    assert not segmenter.in_speech, "the trailing silence should close the utterance"
    assert utterances, "no speech found in a speech recording"
    # Nothing before the recording starts nor after its trailing silence is well under way.
    assert utterances[0][0] >= SILENCE_SECONDS - 0.35
    assert utterances[-1][1] <= len(samples) / SAMPLE_RATE - 0.5
    for word_start, word_end in words:
        middle = (word_start + word_end) / 2
        assert any(a <= middle <= b for a, b in utterances), f"word at {middle:.2f} s not in speech"


def test_digital_silence_never_opens_an_utterance() -> None:
    segmenter = SpeechSegmenter()
    silence = np.zeros(3 * SAMPLE_RATE, dtype=np.int16)
    events = {segmenter.push(frame).event for frame in _frames(silence)}
    assert events == {Event.SILENCE}
    assert segmenter.position == len(silence) // FRAME_SAMPLES * FRAME_SAMPLES
