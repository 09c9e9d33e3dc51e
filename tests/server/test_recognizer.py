"""smnb.server.recognizer: the interface between the server and any engine.

The value types are checked as the server relies on them (frozen, compared by value,
defaults that agree with the protocol layer), and the :class:`Recognizer` contract is
checked on the real pocketsphinx recognizer over real speech.
"""

from __future__ import annotations

import dataclasses
import itertools
import typing

import numpy as np
import pytest

from smnb.protocol import config as protocol_config
from smnb.server import recognizer
from smnb.server.pocketsphinx.recognizer import PocketsphinxRecognizer
from smnb.server.protocol.start import plan_session
from smnb.server.recognizer import (
    SAMPLE_RATE,
    Recognizer,
    RecognizerSettings,
    Update,
    VocabEntry,
    Word,
)
from tests.support.engine_audio import clip, duration, reference

CLIP = "librispeech-1988-24833-0000"  # 3.3 s


def test_the_engine_rate_is_the_protocol_rate() -> None:
    assert SAMPLE_RATE is protocol_config.SAMPLE_RATE
    assert SAMPLE_RATE == 16000


def test_max_delay_modes_are_the_protocols() -> None:
    assert typing.get_args(recognizer.MaxDelayMode) == protocol_config.MAX_DELAY_MODES


def test_default_settings_are_what_a_bare_start_recognition_asks_for() -> None:
    start = {
        "message": "StartRecognition",
        "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000},
        "transcription_config": {"language": "en"},
    }
    assert plan_session(start).settings == RecognizerSettings()
    low, high = protocol_config.MAX_DELAY_RANGE
    assert low <= RecognizerSettings().max_delay <= high


@pytest.mark.parametrize(
    "value",
    [
        RecognizerSettings(),
        VocabEntry("Speechmatics", ("speech matics",)),
        Word("cat", 0.5, 0.8),
        Update(finals=(Word("cat", 0.5, 0.8),), processed_until=1.0),
    ],
    ids=lambda v: type(v).__name__,
)
def test_values_are_frozen_slotted_and_compared_by_value(value: object) -> None:
    field = dataclasses.fields(value)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, None)
    assert not hasattr(value, "__dict__")  # slots: many Words per session stay small
    assert value == dataclasses.replace(value)  # type: ignore[type-var]
    assert hash(value) == hash(dataclasses.replace(value))  # type: ignore[type-var]


def test_a_word_without_a_speaker_or_confidence_is_certain_and_unlabelled() -> None:
    word = Word("cat", 0.5, 0.8)
    assert (word.confidence, word.speaker) == (1.0, None)
    assert word != Word("cat", 0.5, 0.9) and word != Word("cat", 0.5, 0.8, speaker="S1")


def test_an_empty_update_says_nothing_happened() -> None:
    update = Update()
    assert (update.finals, update.partial, update.utterance_ends) == ((), (), ())
    assert update.processed_until == 0.0


def test_settings_carry_plain_and_sounds_like_vocabulary_together() -> None:
    vocab = ("cat", VocabEntry("Smnb", ("s m n b",)))
    settings = RecognizerSettings(additional_vocab=vocab)
    assert settings.additional_vocab == vocab
    assert VocabEntry("Smnb").sounds_like == ()


def test_the_pocketsphinx_recognizer_keeps_the_recognizer_contract() -> None:
    """Finals in time order and never revised, the partial replaced, audio time counted."""
    audio = clip(CLIP)
    engine: Recognizer = PocketsphinxRecognizer(
        RecognizerSettings(max_delay=1.0, max_delay_mode="fixed", enable_partials=True)
    )
    updates: list[Update] = []
    try:
        for i in range(0, len(audio), 1600):
            updates.append(engine.feed(audio[i : i + 1600]))
            fed = min(i + 1600, len(audio)) / SAMPLE_RATE
            assert updates[-1].processed_until <= fed + 1e-9  # never ahead of the audio
        updates.append(engine.finish())
        speakers = engine.speakers()
    finally:
        engine.close()  # type: ignore[attr-defined]
    assert all(isinstance(u, Update) for u in updates)
    done = [u.processed_until for u in updates]
    assert done == sorted(done) and done[-1] == pytest.approx(duration(CLIP), abs=0.02)
    finals = [w for u in updates for w in u.finals]
    assert finals and updates[-1].partial == ()  # finish leaves nothing provisional
    assert all(a.end_time <= b.start_time + 1e-9 for a, b in itertools.pairwise(finals))
    assert all(0.0 <= w.start_time <= w.end_time <= duration(CLIP) + 0.01 for w in finals)
    committed_until = 0.0
    for update in updates:  # each partial is the whole tail after the committed words
        committed_until = max([committed_until, *(w.end_time for w in update.finals)])
        assert all(w.start_time >= committed_until - 1e-9 for w in update.partial)
    assert any(u.partial for u in updates)  # partials were asked for and came
    # every utterance end is the end of a final word
    ends = [t for u in updates for t in u.utterance_ends]
    assert ends and set(ends) <= {w.end_time for w in finals}
    text = {w.content.lower() for w in finals}
    assert len(text & set(reference(CLIP).lower().split())) >= 3
    assert isinstance(speakers, dict)
    assert np.isfinite([w.confidence for w in finals]).all()
