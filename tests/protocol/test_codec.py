"""smnb.protocol.codec: wrong wire-field types are a ProtocolError, never a bare TypeError."""

from __future__ import annotations

import json
from typing import Any

import pytest

from smnb.exceptions import ProtocolError
from smnb.protocol.codec import coerce_server, decode_server
from smnb.protocol.session import ClientSession, SessionState

START = {"message": "StartRecognition", "audio_format": {}, "transcription_config": {}}


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"message": "AudioAdded", "seq_no": None}, "AudioAdded.seq_no must be a non-negative"),
        ({"message": "AudioAdded", "seq_no": "3"}, "AudioAdded.seq_no must be"),
        ({"message": "AudioAdded", "seq_no": True}, "AudioAdded.seq_no must be"),
        ({"message": "AudioAdded", "seq_no": -1}, "AudioAdded.seq_no must be"),
        ({"message": "AudioAdded", "seq_no": 2.5}, "AudioAdded.seq_no must be"),
        ({"message": "AudioAdded"}, "AudioAdded without 'seq_no'"),
        ({"message": "ChannelAudioAdded", "channel": 1, "seq_no": 1}, "channel must be a string"),
        ({"message": "ChannelAudioAdded", "channel": "a"}, "without 'seq_no'"),
        ({"message": "RecognitionStarted", "id": 7}, "RecognitionStarted.id must be a string"),
        ({"message": "RecognitionStarted", "language_pack_info": []}, "must be an object"),
        ({"message": "AddTranscript", "results": None}, "results must be a list of objects"),
        ({"message": "AddPartialTranscript", "results": [1]}, "results must be a list"),
        ({"message": "AddTranscript"}, "AddTranscript without 'results'"),
        ({"message": "AddTranscript", "results": [], "metadata": "x"}, "metadata must be"),
        ({"message": "Error", "type": "x", "code": "4005"}, "Error.code must be an integer"),
        ({"message": "Warning", "reason": ["x"]}, "Warning.reason must be a string"),
    ],
)
def test_a_wrong_field_type_is_a_protocol_error(message: dict[str, Any], problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem):
        decode_server(json.dumps(message))


def test_good_messages_pass_unchanged_and_integral_floats_become_ints() -> None:
    ack = decode_server('{"message": "AudioAdded", "seq_no": 3.0}')
    assert ack == {"message": "AudioAdded", "seq_no": 3} and isinstance(ack["seq_no"], int)
    error = {"message": "Error", "type": "quota_exceeded", "reason": "busy", "code": None}
    assert coerce_server(dict(error)) == error
    unknown = {"message": "SomethingNew", "seq_no": None}  # unknown types are not ours to check
    assert coerce_server(dict(unknown)) == unknown


def test_the_session_state_is_untouched_by_a_bad_frame() -> None:
    session = ClientSession(START)
    session.start()
    session.receive_text('{"message": "RecognitionStarted", "id": "s1"}')
    assert session.audio_sent() == 1
    for bad in ('{"message": "AudioAdded", "seq_no": null}', '{"message": "Error", "code": "x"}'):
        with pytest.raises(ProtocolError):
            session.receive_text(bad)
    assert (session.state, session.frames_acked, session.error) == (
        SessionState.STREAMING,
        0,
        None,
    )
    session.receive_text('{"message": "AudioAdded", "seq_no": 1}')
    assert session.unacked == 0
