"""Config and audio-format differences, in words."""

from __future__ import annotations

from smnb.server.replay.compare import config_differences, flatten, format_difference

RAW16 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


def test_nested_settings_are_compared_leaf_by_leaf_and_unset_is_absent() -> None:
    recorded = {"language": "en", "conversation_config": {"end_of_utterance_silence_trigger": 0.2},
                "domain": None}  # fmt: skip
    assert flatten(recorded) == {
        "language": "en",
        "conversation_config.end_of_utterance_silence_trigger": 0.2,
    }
    given = {"language": "en", "conversation_config": {"end_of_utterance_silence_trigger": 0.5}}
    assert config_differences(recorded, given) == [
        "conversation_config.end_of_utterance_silence_trigger 0.5 (recorded 0.2)"
    ]
    assert config_differences(recorded, {"language": "en", "conversation_config": {
        "end_of_utterance_silence_trigger": 0.2}}) == []  # fmt: skip


def test_values_equal_as_numbers_are_equal_but_true_is_not_one() -> None:
    assert config_differences({"max_delay": 1}, {"max_delay": 1.0}) == []
    assert config_differences({"enable_partials": True}, {"enable_partials": 1}) == [
        "enable_partials 1 (recorded True)"
    ]
    assert config_differences({}, {"operating_point": "enhanced"}) == [
        "operating_point 'enhanced' (recorded not set)"
    ]


def test_audio_formats_differ_by_type_encoding_or_rate() -> None:
    assert format_difference(RAW16, dict(RAW16)) is None
    assert format_difference({"type": "file"}, {"type": "file"}) is None
    assert format_difference({"type": "file"}, {}) is None  # a missing type means file
    assert format_difference(RAW16, {**RAW16, "sample_rate": 8000}) == (
        "this recording's audio was raw pcm_s16le at 16000 Hz; "
        "StartRecognition asks for raw pcm_s16le at 8000 Hz"
    )
    assert format_difference(RAW16, None) == "StartRecognition has no audio_format"
