"""Control-message shapes on a real socket: malformed fields are refused naming them, fields
the spec does not define are warned about, and what official clients send passes quietly."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from smnb.protocol import messages
from smnb.server.protocol.control import CONTROL_FIELDS
from tests.support.client import tone_server
from tests.support.rt_schema import spec_path
from tests.support.rt_stream import converse
from tests.support.server_fakes import s16, speech

RAW16 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
START_MONO = {"message": "StartRecognition", "audio_format": RAW16,
              "transcription_config": {"language": "en"}}  # fmt: skip
TWO = {"language": "en", "diarization": "channel", "channel_diarization_labels": ["a", "b"]}
START_AB = {**START_MONO, "transcription_config": TWO}
AUDIO = s16(speech(["alpha", 0.1]))


def warnings_in(out: list[dict[str, Any]]) -> list[str]:
    return [m["reason"] for m in out if m["message"] == "Warning"]


def test_the_fields_are_the_specs() -> None:
    schemas = yaml.safe_load(spec_path().read_text(encoding="utf-8"))["components"]["schemas"]
    for kind, fields in CONTROL_FIELDS.items():
        assert fields == set(schemas[kind]["properties"]), kind


@pytest.mark.parametrize(
    ("start", "frame", "reason"),
    [
        (START_MONO, {"message": "ForceEndOfUtterance", "timestamp": "x"},
         "ForceEndOfUtterance.timestamp must be a number of seconds ≥ 0, not 'x'"),
        (START_MONO, {"message": "ForceEndOfUtterance", "timestamp": -1},
         "ForceEndOfUtterance.timestamp must be a number of seconds ≥ 0, not -1"),
        (START_MONO, {"message": "ForceEndOfUtterance", "timestamp": True},
         "ForceEndOfUtterance.timestamp must be a number of seconds ≥ 0, not True"),
        (START_MONO, {"message": "EndOfStream", "last_seq_no": "x"},
         "EndOfStream.last_seq_no must be an integer, not 'x'"),
        (START_MONO, {"message": "EndOfStream", "last_seq_no": 1.5},
         "EndOfStream.last_seq_no must be an integer, not 1.5"),
        (START_AB, {"message": "EndOfChannel", "channel": "a", "last_seq_no": "x"},
         "EndOfChannel.last_seq_no must be an integer, not 'x'"),
        (START_AB, {"message": "AddChannelAudio", "channel": "a"},
         "AddChannelAudio.data is required (the audio, base64-encoded)"),
        (START_AB, {"message": "AddChannelAudio", "channel": "a", "data": None},
         "AddChannelAudio.data is required (the audio, base64-encoded)"),
        (START_AB, {"message": "AddChannelAudio", "channel": "a", "data": 5},
         "AddChannelAudio.data must be a base64 string, not 5"),
        (START_MONO, {"message": "GetSpeakers", "final": "yes"},
         "GetSpeakers.final must be true or false, not 'yes'"),
        (START_MONO, {"message": "GetSpeakers", "final": 1},
         "GetSpeakers.final must be true or false, not 1"),
    ],
)  # fmt: skip
async def test_a_malformed_control_field_is_an_invalid_message_naming_it(
    start: dict[str, Any], frame: dict[str, Any], reason: str
) -> None:
    async with tone_server() as url:
        out = await converse(url, start, [frame])
    assert out[-1] == {"message": "Error", "type": "invalid_message", "reason": reason}


@pytest.mark.parametrize(
    ("start", "frames", "reasons"),
    [
        (START_MONO, [AUDIO, {"message": "ForceEndOfUtterance", "timestamps": 1}],
         ["ForceEndOfUtterance.timestamps is not part of the RT v2 API; ignored"]),
        (START_MONO, [AUDIO, {"message": "GetSpeakers", "final": False, "when": "now"}],
         ["GetSpeakers.when is not part of the RT v2 API; ignored"]),
        (START_MONO, [AUDIO, {"message": "SetRecognitionConfig", "transcription_config": {},
                              "b": 1, "a": 2}],
         ["SetRecognitionConfig.a is not part of the RT v2 API; ignored",
          "SetRecognitionConfig.b is not part of the RT v2 API; ignored"]),
        (START_MONO, [AUDIO, {"message": "EndOfStream", "last_seq_no": 0, "bogus": 1}],
         ["EndOfStream.bogus is not part of the RT v2 API; ignored"]),
    ],
)  # fmt: skip
async def test_a_field_the_spec_does_not_define_is_warned_and_ignored(
    start: dict[str, Any], frames: list[Any], reasons: list[str]
) -> None:
    async with tone_server() as url:
        out = await converse(url, start, frames)
    assert warnings_in(out) == reasons
    assert all(m["type"] == "validation_warning" for m in out if m["message"] == "Warning")
    assert out[-1]["message"] == "EndOfTranscript"  # the session goes on as without the field


async def test_an_extra_audio_field_is_named_once_not_per_frame() -> None:
    data = base64.b64encode(AUDIO).decode()
    frame = {"message": "AddChannelAudio", "channel": "a", "data": data, "seq": 1}
    async with tone_server() as url:
        out = await converse(url, START_AB, [frame, frame, frame])
    assert warnings_in(out) == ["AddChannelAudio.seq is not part of the RT v2 API; ignored"]
    assert sum(m["message"] == "ChannelAudioAdded" for m in out) == 3
    assert out[-1]["message"] == "EndOfTranscript"


async def test_what_official_clients_send_gets_no_warning() -> None:
    """The Python SDK's forced end carries ``timestamp`` (and ``channel`` in multichannel);
    the legacy client's end of channel carries ``last_seq_no``."""
    data = base64.b64encode(AUDIO).decode()
    mono = [AUDIO, messages.force_end_of_utterance(timestamp=0.4), messages.get_speakers()]
    multi = [
        messages.add_channel_audio("a", data),
        messages.force_end_of_utterance(timestamp=0.4, channel="a"),
        messages.get_speakers(final=True),
        messages.end_of_channel("a", 1),
        messages.end_of_channel("b", 0),
    ]
    async with tone_server() as url:
        for start, frames in ((START_MONO, mono), (START_AB, multi)):
            out = await converse(url, start, frames, end=start is START_MONO)
            assert warnings_in(out) == []
            assert out[-1]["message"] == "EndOfTranscript"
