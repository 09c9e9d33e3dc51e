"""ClientSession: protocol rules with plain strings, no sockets."""

from __future__ import annotations

import json

import pytest

from smnb.exceptions import ConnectionLost, ProtocolError, ServerError
from smnb.protocol import messages as m
from smnb.protocol.session import ClientSession, SessionState

START = m.start_recognition({"language": "en"}, {"type": "file"})


def started() -> ClientSession:
    session = ClientSession(START)
    session.start()
    session.receive_text(json.dumps({"message": "RecognitionStarted", "id": "abc"}))
    return session


def test_happy_path_states_and_sequence_numbers() -> None:
    session = ClientSession(START)
    assert session.state is SessionState.IDLE
    assert session.start() is START
    assert session.state is SessionState.STARTING
    msg = session.receive_text(
        '{"message":"RecognitionStarted","id":"s1","language_pack_info":{"word_delimiter":" "}}'
    )
    assert msg["id"] == "s1"
    assert session.state is SessionState.STREAMING
    assert session.session_id == "s1"
    assert session.language_pack_info == {"word_delimiter": " "}
    assert [session.audio_sent() for _ in range(3)] == [1, 2, 3]
    assert session.unacked == 3
    session.receive_text('{"message":"AudioAdded","seq_no":2}')
    assert session.unacked == 1
    assert session.end_stream() == {"message": "EndOfStream", "last_seq_no": 3}
    assert session.state is SessionState.ENDING
    session.receive_text('{"message":"EndOfTranscript"}')
    assert session.state is SessionState.DONE and session.finished and session.error is None


def test_audio_before_recognition_started_is_refused() -> None:
    session = ClientSession(START)
    session.start()
    with pytest.raises(ProtocolError, match="cannot send audio in state starting"):
        session.audio_sent()


def test_start_twice_is_refused() -> None:
    session = ClientSession(START)
    session.start()
    with pytest.raises(ProtocolError):
        session.start()


def test_server_error_fails_the_session_but_returns_the_message() -> None:
    session = started()
    msg = session.receive_text('{"message":"Error","type":"invalid_config","reason":"bad"}')
    assert msg["type"] == "invalid_config"
    assert session.state is SessionState.FAILED
    assert isinstance(session.error, ServerError)
    assert (session.error.type, session.error.reason) == ("invalid_config", "bad")
    # A close after the Error keeps the Error as the cause.
    session.receive_closed(1008, "invalid_config")
    assert isinstance(session.error, ServerError)


@pytest.mark.parametrize(
    ("advance", "where"),
    [
        (lambda s: s.start(), "before RecognitionStarted"),
        (
            lambda s: (s.start(), s.receive_text('{"message":"RecognitionStarted"}')),
            "while streaming",
        ),
    ],
)
def test_early_close_is_connection_lost(advance, where: str) -> None:
    session = ClientSession(START)
    advance(session)
    session.receive_closed(1006, "")
    assert isinstance(session.error, ConnectionLost)
    assert where in str(session.error)
    assert session.error.code == 1006


def test_close_after_end_of_transcript_is_fine() -> None:
    session = started()
    session.end_stream()
    session.receive_text('{"message":"EndOfTranscript"}')
    session.receive_closed(1000, "")
    assert session.state is SessionState.DONE and session.error is None


@pytest.mark.parametrize("frame", ["not json", "[1,2]", '{"no":"message"}', b"\xff\xfe"])
def test_garbage_frames_raise_protocol_error(frame: str | bytes) -> None:
    with pytest.raises(ProtocolError):
        started().receive_text(frame)


def test_multichannel_counts_per_channel_and_ends_when_all_closed() -> None:
    session = ClientSession(START, channels=["left", "right"])
    session.start()
    session.receive_text('{"message":"RecognitionStarted"}')
    msg, seq = session.channel_audio("left", "AAAA")
    assert msg == {"message": "AddChannelAudio", "channel": "left", "data": "AAAA"}
    assert seq == 1
    assert session.channel_audio("left", "AAAA")[1] == 2
    assert session.channel_audio("right", "AAAA")[1] == 1
    session.receive_text('{"message":"ChannelAudioAdded","channel":"left","seq_no":2}')
    assert session.unacked == 1
    assert session.end_channel("left") == {
        "message": "EndOfChannel",
        "channel": "left",
        "last_seq_no": 2,
    }
    assert session.state is SessionState.STREAMING
    with pytest.raises(ProtocolError, match="not open"):
        session.channel_audio("left", "AAAA")
    session.end_channel("right")
    assert session.state is SessionState.ENDING


def test_server_text_in_an_error_is_scrubbed_and_one_line() -> None:
    from smnb.recorder.sanitize import register_secret

    key = "sk-proto-ECHO-0123456789"
    register_secret(key)
    session = started()
    reason = f"key {key} is invalid\nsecond line\r\n\x1b[31mthird"
    session.receive_text(
        json.dumps({"message": "Error", "type": "not\nauthorised", "reason": reason})
    )
    error = session.error
    assert isinstance(error, ServerError)
    assert error.reason == "key <redacted> is invalid second line third"
    assert error.type == "not authorised"
    assert str(error) == "server error not authorised: key <redacted> is invalid second line third"
    closing = started()
    closing.receive_closed(1011, f"bye {key}\n\x1b[2Jforged line")
    assert isinstance(closing.error, ConnectionLost)
    assert str(closing.error).endswith("(code 1011: bye <redacted> forged line)")
    assert closing.error.reason == "bye <redacted> forged line"
