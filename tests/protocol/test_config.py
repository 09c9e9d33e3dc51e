"""Config validation: every rule names the field and what is allowed."""

from __future__ import annotations

import pytest
import yaml

from smnb.exceptions import ConfigError
from smnb.protocol.config import (
    NESTED_FIELDS,
    split_unknown,
    validate_audio_format,
    validate_transcription_config,
)
from tests.support.rt_schema import VENDORED_SPEC


def test_a_full_valid_config_passes_unchanged() -> None:
    cfg = {
        "language": "en",
        "max_delay": 2,
        "max_delay_mode": "fixed",
        "enable_partials": True,
        "diarization": "speaker",
        "speaker_diarization_config": {"max_speakers": 3, "speaker_sensitivity": 0.6},
        "conversation_config": {"end_of_utterance_silence_trigger": 0.8},
        "additional_vocab": ["smnb", {"content": "Jupyter", "sounds_like": ["jew peter"]}],
        "punctuation_overrides": {"permitted_marks": [".", ","], "sensitivity": 0.4},
        "audio_filtering_config": {"volume_threshold": 3.4},
        "transcript_filtering_config": {"remove_disfluencies": True, "replacements": []},
        "model": "enhanced",
        "output_locale": "en-GB",
        "language_hints": ["en"],
    }
    assert validate_transcription_config(cfg) == cfg


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({}, "language is required"),
        ({"language": "en", "max_delay": 0.5}, "max_delay must be between 0.7 and 4"),
        ({"language": "en", "max_delay": 5}, "max_delay must be between 0.7 and 4"),
        ({"language": "en", "max_delay": "2"}, "max_delay must be a number"),
        ({"language": "en", "max_delay_mode": "strict"}, "max_delay_mode must be one of"),
        ({"language": "en", "diarization": "yes"}, "diarization must be one of"),
        ({"language": "en", "enable_partials": 1}, "enable_partials must be true or false"),
        ({"language": "en", "max_dealy": 2}, "does not accept max_dealy"),
        ({"language": "en", "model": "standard", "operating_point": "enhanced"}, "not both"),
        (
            {"language": "en", "conversation_config": {"end_of_utterance_silence_trigger": 3}},
            "end_of_utterance_silence_trigger must be between 0 and 2",
        ),
        (
            {"language": "en", "speaker_diarization_config": {"max_speakers": 1}},
            "max_speakers must be an integer of at least 2",
        ),
        ({"language": "en", "channel_diarization_labels": ["a", "a"]}, "must be unique"),
        (
            {"language": "en", "diarization": "speaker", "channel_diarization_labels": ["a", "b"]},
            "channel_diarization_labels needs diarization 'channel' or 'channel_and_speaker'",
        ),
        ({"language": "en", "additional_vocab": [""]}, "additional_vocab[0] is an empty string"),
        ({"language": "en", "language_hints": "en"}, "language_hints must be a list"),
    ],
)
def test_bad_values_are_named(cfg: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_transcription_config(cfg)
    assert message in str(info.value)


def test_mid_session_config_only_takes_the_mutable_fields() -> None:
    assert validate_transcription_config({"max_delay": 1}, mid_session=True) == {"max_delay": 1}
    with pytest.raises(ConfigError, match="SetRecognitionConfig does not accept diarization"):
        validate_transcription_config({"diarization": "speaker"}, mid_session=True)


@pytest.mark.parametrize(
    "fmt",
    [
        {"type": "file"},
        {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000},
        {"type": "raw", "encoding": "pcm_f32le", "sample_rate": 44100},
        {"type": "raw", "encoding": "mulaw", "sample_rate": 8000},
    ],
)
def test_valid_audio_formats(fmt: dict[str, object]) -> None:
    assert validate_audio_format(fmt) == fmt


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ({"type": "wav"}, "must be 'raw' or 'file'"),
        ({"type": "raw", "encoding": "opus", "sample_rate": 16000}, "encoding must be one of"),
        ({"type": "raw", "encoding": "pcm_s16le"}, "sample_rate must be an integer"),
        ({"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000.5}, "sample_rate"),
        ({"type": "file", "sample_rate": 16000}, "takes no sample_rate"),
    ],
)
def test_bad_audio_formats(fmt: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_audio_format(fmt)


NESTED_TYPOS = [
    ({"audio_filtering_config": {"volume_treshold": 3}}, "audio_filtering_config.volume_treshold",
     "volume_threshold"),
    ({"conversation_config": {"end_of_utterence_silence_trigger": 0.5}},
     "conversation_config.end_of_utterence_silence_trigger", "end_of_utterance_silence_trigger"),
    ({"punctuation_overrides": {"permited_marks": []}}, "punctuation_overrides.permited_marks",
     "permitted_marks"),
    ({"speaker_diarization_config": {"max_speaker": 2}}, "speaker_diarization_config.max_speaker",
     "max_speakers"),
    ({"speaker_diarization_config": {"speakers": [{"label": "Ann", "speaker_identifier": ["x"]}]}},
     "speaker_diarization_config.speakers[0].speaker_identifier", "speaker_identifiers"),
    ({"transcript_filtering_config": {"remove_disfluency": True}},
     "transcript_filtering_config.remove_disfluency", "remove_disfluencies"),
    ({"transcript_filtering_config": {"replacements": [{"from": "a", "too": "b"}]}},
     "transcript_filtering_config.replacements[0].too", "to"),
    ({"additional_vocab": ["ok", {"content": "gnocchi", "sound_like": ["nokey"]}]},
     "additional_vocab[1].sound_like", "sounds_like"),
]  # fmt: skip
"""(config, dotted path of the typo, the field it should be): one per nested object."""


@pytest.mark.parametrize(("cfg", "path", "meant"), NESTED_TYPOS)
def test_a_typo_in_a_nested_object_is_named_by_its_path(
    cfg: dict[str, object], path: str, meant: str
) -> None:
    with pytest.raises(ConfigError) as info:
        validate_transcription_config({"language": "en", **cfg})
    assert str(info.value).startswith(f"{path} is not a field of the RT v2 API")
    assert f"did you mean {meant!r}?" in str(info.value)


@pytest.mark.parametrize(
    "cfg",
    [
        {"audio_filtering_config": {"volume_treshold": 3}},
        {"conversation_config": {"end_of_utterence_silence_trigger": 0.5}},
    ],
)
def test_mid_session_a_nested_typo_is_refused_too(cfg: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match=r"_config\.\w+ is not a field of the RT v2 API"):
        validate_transcription_config(cfg, mid_session=True)


def test_split_unknown_leaves_values_of_the_wrong_type_for_their_checks() -> None:
    cfg = {"conversation_config": [], "additional_vocab": "x", "ctrl": {"anything": 1}}
    assert split_unknown(cfg) == (cfg, [])
    kept, found = split_unknown({"speaker_diarization_config": {"max_speakers": 2, "x": 1}})
    assert kept == {"speaker_diarization_config": {"max_speakers": 2}}
    assert [(where, key) for where, key, _ in found] == [("speaker_diarization_config", "x")]


def test_the_nested_field_sets_are_the_specs() -> None:
    schemas = yaml.safe_load(VENDORED_SPEC.read_text(encoding="utf-8"))["components"]["schemas"]

    def fields(name: str) -> frozenset[str]:
        return frozenset(schemas[name]["properties"])

    from_spec = {
        "audio_filtering_config": fields("AudioFilteringConfig"),
        "conversation_config": fields("ConversationConfig"),
        "punctuation_overrides": fields("PunctuationOverrides"),
        "speaker_diarization_config": fields("SpeakerDiarizationConfig"),
        "speaker_diarization_config.speakers[]": fields("SpeakersInputItem"),
        "transcript_filtering_config": fields("TranscriptFilteringConfig"),
        "transcript_filtering_config.replacements[]": fields("WordReplacementItem"),
        "additional_vocab[]": fields("AdditionalVocabObject"),
        "translation_config": fields("TranslationConfig"),
        "audio_events_config": fields("AudioEventsConfig"),
    }
    assert from_spec == NESTED_FIELDS
