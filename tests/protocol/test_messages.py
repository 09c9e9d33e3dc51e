"""Message builders and decoding."""

from __future__ import annotations

import pytest

from smnb.exceptions import ProtocolError
from smnb.protocol import messages as m


def test_builders_match_the_wire_shapes() -> None:
    assert m.end_of_stream(7) == {"message": "EndOfStream", "last_seq_no": 7}
    assert m.force_end_of_utterance() == {"message": "ForceEndOfUtterance"}
    assert m.force_end_of_utterance(timestamp=1.5, channel="a") == {
        "message": "ForceEndOfUtterance",
        "timestamp": 1.5,
        "channel": "a",
    }
    assert m.get_speakers(final=True) == {"message": "GetSpeakers", "final": True}
    start = m.start_recognition(
        {"language": "en"}, {"type": "file"}, audio_events_config={"types": ["music"]}
    )
    assert start["message"] == "StartRecognition"
    assert start["audio_events_config"] == {"types": ["music"]}
    assert "translation_config" not in start


def test_encode_decode_round_trip() -> None:
    msg = {"message": "AddTranscript", "results": [], "metadata": {"transcript": "é"}}
    assert m.decode(m.encode(msg)) == msg


def test_decode_errors_quote_the_frame() -> None:
    with pytest.raises(ProtocolError, match="not JSON: nope"):
        m.decode("nope")


def test_deeply_nested_json_is_a_protocol_error_not_a_crash() -> None:
    with pytest.raises(ProtocolError, match="nested too deeply"):
        m.decode("[" * 5000 + "]" * 5000)


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        ("protocol_error", 1003),
        ("quota_exceeded", 4005),
        ("not_authorised", 4001),
        ("invalid_config", 1008),
        ("idle_timeout", 1008),
        ("unknown_error", 1011),
    ],
)
def test_close_codes(error_type: str, code: int) -> None:
    assert m.close_code_for(error_type) == code
