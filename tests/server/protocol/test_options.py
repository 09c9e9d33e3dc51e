"""Every StartRecognition option is honoured, warned about by name, or refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from smnb.protocol.config import TRANSCRIPTION_FIELDS
from smnb.server.protocol.start import Rejected, plan_session
from tests.support.client import tone_server
from tests.support.rt_stream import converse

DOCS = Path(__file__).resolve().parents[3] / "docs" / "server.md"
RAW = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


def plan(config: dict[str, Any], **top: Any) -> Any:
    return plan_session(
        {
            "message": "StartRecognition",
            "audio_format": top.pop("audio_format", RAW),
            "transcription_config": {"language": "en", **config},
            **top,
        }
    )


def reasons(config: dict[str, Any], **top: Any) -> list[str]:
    p = plan(config, **top)
    assert all(w["message"] == "Warning" for w in (*p.notices, *p.warnings))
    return [w["reason"] for w in (*p.notices, *p.warnings)]


@pytest.mark.parametrize(
    ("config", "top", "named"),
    [
        ({"domain": "finance"}, {}, "domain"),
        ({"output_locale": "en-GB"}, {}, "output_locale"),
        ({"enable_entities": True}, {}, "enable_entities"),
        ({"language_hints": ["en"]}, {}, "language_hints"),
        ({"streaming_mode": True}, {}, "streaming_mode"),
        ({"ctrl": {"x": 1}}, {}, "ctrl"),
        ({"speaker_diarization_config": {"max_speakers": 2}}, {}, "speaker_diarization_config"),
        ({"language_hints_strict": True}, {}, "language_hints_strict"),
        ({"model": "enhanced", "operating_point": "standard"}, {}, "operating_point"),
        ({"additional_vocab": ["one two three four five six seven"]}, {}, "additional_vocab"),
        ({}, {"audio_events_config": {"types": ["music"]}}, "audio_events_config"),
        ({}, {"translation_config": {"target_languages": ["de"]}}, "translation_config"),
        ({}, {"audio_format": {"type": "file", "sample_rate": 8000}}, "audio_format.sample_rate"),
        ({}, {"audio_format": {**RAW, "channels": 1}}, "audio_format.channels"),
        ({}, {"session_label": "x"}, "session_label"),
    ],
)
def test_an_option_not_honoured_is_named_in_a_warning(
    config: dict[str, Any], top: dict[str, Any], named: str
) -> None:
    found = [r for r in reasons(config, **top) if named in r]
    assert found, reasons(config, **top)


def test_honoured_options_get_no_warning() -> None:
    config = {
        "output_locale": "en-US",
        "model": "enhanced",
        "enable_entities": False,
        "diarization": "speaker",
        "speaker_diarization_config": {"max_speakers": 3, "prefer_current_speaker": True,
                                       "speaker_sensitivity": 0.7, "get_speakers": True},
        "punctuation_overrides": {"permitted_marks": [",", "."], "sensitivity": 0.4},
        "transcript_filtering_config": {"remove_disfluencies": True,
                                        "replacements": [{"from": "/a/", "to": "b"}]},
        "audio_filtering_config": {"volume_threshold": 3.4},
        "conversation_config": {"end_of_utterance_silence_trigger": 0.5},
        "additional_vocab": ["gnocchi", {"content": "CEO", "sounds_like": ["C.E.O."]}],
        "max_delay": 1.0, "max_delay_mode": "fixed", "enable_partials": True,
    }  # fmt: skip
    p = plan(config)
    assert p.notices == () and p.warnings == ()
    assert p.settings.prefer_current_speaker and p.settings.max_speakers == 3
    assert p.volume_threshold == 3.4 and p.postprocess.remove_disfluencies


def test_translation_gets_the_specs_own_warnings() -> None:
    p = plan({}, translation_config={"target_languages": ["de", "fr"], "enable_partials": True})
    kinds = [(w["type"], w["reason"]) for w in p.warnings]
    assert [k for k, _ in kinds] == [
        "unsupported_translation_pair",
        "unsupported_translation_pair",
        "empty_translation_target_list",
    ]
    assert "from en to de" in kinds[0][1] and "from en to fr" in kinds[1][1]


def test_ignored_fields_are_taken_out_and_the_rest_still_checked() -> None:
    p = plan({"bogus": 1, "model": "enhanced", "operating_point": "enhanced"})
    assert "bogus" not in p.transcription_config
    assert "operating_point" not in p.transcription_config
    assert [w["type"] for w in p.notices] == ["validation_warning"] * 2
    with pytest.raises(Rejected, match="max_delay"):
        plan({"bogus": 1, "max_delay": 9})
    with pytest.raises(Rejected) as raised:
        plan({}, audio_format={"type": "raw", "encoding": "opus", "sample_rate": 16000, "x": 1})
    assert raised.value.error_type == "invalid_audio_type"


def test_docs_table_lists_every_option_with_what_happens() -> None:
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("## Options") :]
    rows = dict(re.findall(r"^\| `([\w.]+)` \| (honoured|warned|refused)", table, re.M))
    expected = set(TRANSCRIPTION_FIELDS) | {
        "translation_config", "audio_events_config", "audio_format.type",
        "punctuation_overrides.permitted_marks", "punctuation_overrides.sensitivity",
        "transcript_filtering_config.replacements",
        "transcript_filtering_config.remove_disfluencies",
        "audio_filtering_config.volume_threshold",
        "speaker_diarization_config.max_speakers", "speaker_diarization_config.speaker_sensitivity",
        "speaker_diarization_config.prefer_current_speaker",
        "speaker_diarization_config.get_speakers", "speaker_diarization_config.speakers",
    }  # fmt: skip
    assert expected <= set(rows), sorted(expected - set(rows))
    for field in ("domain", "enable_entities", "translation_config", "audio_events_config"):
        assert rows[field] == "warned"
    assert rows["punctuation_overrides.permitted_marks"] == "honoured"


NESTED_TYPOS: list[tuple[dict[str, Any], str]] = [
    ({"audio_filtering_config": {"volume_treshold": 3}},
     "transcription_config.audio_filtering_config.volume_treshold"),
    ({"conversation_config": {"end_of_utterence_silence_trigger": 0.5}},
     "transcription_config.conversation_config.end_of_utterence_silence_trigger"),
    ({"punctuation_overrides": {"permited_marks": []}},
     "transcription_config.punctuation_overrides.permited_marks"),
    ({"speaker_diarization_config": {"max_speaker": 2}},
     "transcription_config.speaker_diarization_config.max_speaker"),
    ({"speaker_diarization_config": {"speakers": [{"label": "Ann", "speaker_identifiers": ["x"],
                                                   "name": "Ann"}]}},
     "transcription_config.speaker_diarization_config.speakers[0].name"),
    ({"transcript_filtering_config": {"remove_disfluency": True}},
     "transcription_config.transcript_filtering_config.remove_disfluency"),
    ({"transcript_filtering_config": {"replacements": [{"from": "a", "to": "b", "regex": 1}]}},
     "transcription_config.transcript_filtering_config.replacements[0].regex"),
    ({"additional_vocab": ["ok", {"content": "gnocchi", "sound_like": ["nokey"]}]},
     "transcription_config.additional_vocab[1].sound_like"),
    ({"translation_config": {"target_languages": [], "enable_partial": True}},
     "translation_config.enable_partial"),
    ({"audio_events_config": {"type": ["music"]}}, "audio_events_config.type"),
]  # fmt: skip
"""(what StartRecognition carries, the dotted path of its typo): one per nested object."""


@pytest.mark.parametrize(("fields", "path"), NESTED_TYPOS)
async def test_a_typo_in_a_nested_object_is_warned_by_its_path_and_dropped(
    fields: dict[str, Any], path: str
) -> None:
    top = {k: fields.pop(k) for k in ("translation_config", "audio_events_config") if k in fields}
    start = {"message": "StartRecognition", "audio_format": RAW,
             "transcription_config": {"language": "en", "diarization": "speaker", **fields},
             **top}  # fmt: skip
    async with tone_server() as url:
        out = await converse(url, start)
    warned = [m for m in out if m["message"] == "Warning" and path in m["reason"]]
    assert [w["type"] for w in warned] == ["validation_warning"], out
    known = (
        "an option this server knows" if "transcription_config" in path else "part of the RT v2 API"
    )
    assert warned[0]["reason"] == f"{path} is not {known}; ignored"
    kinds = [m["message"] for m in out]
    assert kinds.index("Warning") < kinds.index("RecognitionStarted")  # accepted, as at the top
    assert kinds[-1] == "EndOfTranscript"


def test_a_nested_typo_is_dropped_and_its_siblings_still_checked() -> None:
    typo = {"end_of_utterence_silence_trigger": 0.5}
    p = plan({"conversation_config": {**typo, "end_of_utterance_silence_trigger": 1.0}})
    assert p.transcription_config["conversation_config"] == {
        "end_of_utterance_silence_trigger": 1.0
    }
    assert p.eou_trigger == 1.0
    with pytest.raises(Rejected, match="end_of_utterance_silence_trigger must be between"):
        plan({"conversation_config": {**typo, "end_of_utterance_silence_trigger": 5}})
