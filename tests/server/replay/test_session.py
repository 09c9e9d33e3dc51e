"""ReplaySession: when recorded messages go out, and what a differing client is told.

No sockets: the test plays the transport, handing the session frames with
explicit clock readings (seconds), so every release time is exact.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from smnb.server.protocol.actions import Action, Close, Send
from smnb.server.replay import MISMATCH, Recording, Replay, ReplaySession, Timed
from smnb.server.replay.reference import ReferenceAudio

RAW16 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
CONFIG = {"language": "en", "max_delay": 0.7, "enable_partials": True}
START = {"message": "StartRecognition", "audio_format": RAW16, "transcription_config": CONFIG}
FRAME = 3200  # bytes of 0.1 s at 16 kHz s16
AUDIO = bytes(range(256)) * 25  # 6400 bytes: 0.2 s of (non-silent) audio


def final(text: str) -> dict[str, Any]:
    return {"message": "AddTranscript", "metadata": {"transcript": text}, "results": []}


RECORDING = Recording(
    source="/somewhere/messages.jsonl",
    audio_format=RAW16,
    transcription_config=CONFIG,
    on_open=({"message": "Info", "type": "concurrent_session_usage"},),
    on_start=(
        {"message": "RecognitionStarted", "id": "recorded-id"},
        {"message": "Info", "type": "recognition_quality"},
    ),
    timed=(
        Timed(0.0, final("early")),  # arrived with the first frame's audio time 0
        Timed(0.25, final("a")),
        Timed(0.55, final("b")),
        Timed(0.55, {"message": "EndOfUtterance", "metadata": {}}),
        Timed(1.05, final("c")),
        Timed(1.06, final("flushed"), after_end=True),
    ),
    audio_seconds=1.2,
)


def sent(actions: list[Action]) -> list[dict[str, Any]]:
    assert all(isinstance(a, Send) for a in actions), actions
    return [a.message for a in actions if isinstance(a, Send)]


def kinds(actions: list[Action]) -> list[str]:
    out = []
    for msg in sent(actions):
        text = msg.get("metadata", {}).get("transcript")
        out.append(f"{msg['message']}:{text}" if text is not None else msg["message"])
    return out


def started(recording: Recording = RECORDING, **kwargs: Any) -> ReplaySession:
    session = ReplaySession(Replay(recording, **kwargs))
    session.opened()
    session.receive_text(json.dumps(START), now=0.0)
    return session


def stream(session: ReplaySession, seconds: float, *, start: float = 0.0) -> list[Action]:
    """Frames of 0.1 s covering ``[start, seconds)``, each at its real-time send time."""
    out: list[Action] = []
    k = round(start * 10)
    while k < round(seconds * 10):
        k += 1
        out += session.receive_binary(b"\x01\x00" * (FRAME // 2), now=k / 10)
    return out


# --- greeting and acknowledgements ----------------------------------------------------------


def test_the_recorded_greeting_then_the_answer_to_start_recognition() -> None:
    session = ReplaySession(Replay(RECORDING))
    assert kinds(session.opened()) == ["Info"]
    answer = session.receive_text(json.dumps(START), now=0.0)
    assert sent(answer)[0] == {"message": "RecognitionStarted", "id": "recorded-id"}
    # Info recognition_quality, then what arrived at audio time 0, and nothing more yet.
    assert kinds(answer) == ["RecognitionStarted", "Info", "AddTranscript:early"]


def test_every_frame_is_acknowledged_at_once_with_its_sequence_number() -> None:
    session = started()
    acks = [sent(session.receive_binary(b"\0" * 320, now=0.0))[0] for _ in range(3)]
    assert acks == [{"message": "AudioAdded", "seq_no": n} for n in (1, 2, 3)]


# --- release times --------------------------------------------------------------------------


def test_a_message_goes_out_when_the_audio_reaches_its_recorded_time() -> None:
    session = started()
    assert kinds(stream(session, 0.2)) == ["AudioAdded", "AudioAdded"]
    # The frame carrying [0.2, 0.3) has audio past 0.25: "a" follows its ack.
    assert kinds(stream(session, 0.3, start=0.2)) == ["AudioAdded", "AddTranscript:a"]


def test_between_frames_the_audio_clock_runs_with_the_clock_for_one_frame() -> None:
    session = started()
    stream(session, 0.5)  # the last frame, [0.4, 0.5), arrived at 0.5
    assert session.audio_clock(0.53) == 0.53
    assert session.next_release() == 0.55  # "b" is due at audio 0.55, 0.05 s after the frame
    assert session.tick(0.549) == []
    assert kinds(session.tick(0.55)) == ["AddTranscript:b", "EndOfUtterance"]  # order kept
    # A client that stops sending stops the clock one frame after its last audio.
    assert session.audio_clock(5.0) == 0.6
    assert session.next_release() is None  # "c" (1.05) waits for audio
    assert session.tick(5.0) == []


def test_a_fast_client_gets_messages_as_its_audio_arrives() -> None:
    session = started()
    out: list[Action] = []
    for _ in range(12):  # 1.2 s of audio within one instant
        out += session.receive_binary(b"\x01\x00" * (FRAME // 2), now=0.0)
    assert [k for k in kinds(out) if k != "AudioAdded"] == [
        "AddTranscript:a",
        "AddTranscript:b",
        "EndOfUtterance",
        "AddTranscript:c",
    ]


def test_what_arrived_after_end_of_stream_waits_for_the_clients() -> None:
    session = started()
    stream(session, 1.2)
    assert kinds(session.tick(1.3))[-1:] != ["AddTranscript:flushed"]
    assert session.next_release() is None
    end = session.receive_text(json.dumps({"message": "EndOfStream", "last_seq_no": 12}), 1.3)
    assert kinds(end) == ["AddTranscript:flushed", "EndOfTranscript"]
    assert session.finished


def test_end_of_stream_releases_everything_left_then_end_of_transcript() -> None:
    session = started()
    stream(session, 0.3)
    end = session.receive_text(json.dumps({"message": "EndOfStream", "last_seq_no": 3}), 0.3)
    # The short audio is reported first (the recording's was 1.2 s).
    assert kinds(end) == [
        "Warning",
        "AddTranscript:b",
        "EndOfUtterance",
        "AddTranscript:c",
        "AddTranscript:flushed",
        "EndOfTranscript",
    ]
    assert session.receive_binary(b"\0" * 320, now=0.4) == []  # finished: nothing more


def test_a_recorded_error_is_replayed_and_ends_the_session() -> None:
    error = {"message": "Error", "type": "job_error", "reason": "Failed to process audio"}
    recording = Recording(
        "r.jsonl", RAW16, CONFIG, timed=(Timed(0.1, error), Timed(0.2, final("x")))
    )
    session = started(recording)
    out = session.receive_binary(b"\0" * FRAME, now=0.1)
    assert sent(out[:-1])[-1] == error
    assert out[-1] == Close(4013, "job_error")
    assert session.finished and session.error == ("job_error", "Failed to process audio")


# --- what a differing client is told ----------------------------------------------------------


def warnings(actions: list[Action]) -> list[str]:
    return [
        m["reason"] for m in sent(actions) if m["message"] == "Warning" and m["type"] == MISMATCH
    ]


def test_a_different_audio_format_is_an_error() -> None:
    session = ReplaySession(Replay(RECORDING))
    start = {
        **START,
        "audio_format": {"type": "raw", "encoding": "pcm_f32le", "sample_rate": 44100},
    }
    out = session.receive_text(json.dumps(start), now=0.0)
    error = sent(out[:1])[0]
    assert error["type"] == "invalid_audio_type"
    assert error["reason"] == (
        "replay of messages.jsonl: this recording's audio was raw pcm_s16le at 16000 Hz; "
        "StartRecognition asks for raw pcm_f32le at 44100 Hz"
    )
    assert isinstance(out[1], Close) and session.finished
    file = ReplaySession(Replay(RECORDING))
    out = file.receive_text(json.dumps({**START, "audio_format": {"type": "file"}}), now=0.0)
    assert "StartRecognition asks for file" in sent(out[:1])[0]["reason"]


def test_a_different_config_gets_a_warning_naming_each_difference() -> None:
    session = ReplaySession(Replay(RECORDING))
    config = {"language": "en", "max_delay": 2, "enable_partials": True, "diarization": "speaker"}
    out = session.receive_text(json.dumps({**START, "transcription_config": config}), 0.0)
    assert warnings(out) == [
        "replay of messages.jsonl: transcription_config differs from the recording's: "
        "diarization 'speaker' (recorded not set); max_delay 2 (recorded 0.7)"
    ]
    assert kinds(out)[:2] == ["RecognitionStarted", "Info"]  # after RecognitionStarted, as Info


def test_unset_fields_do_not_count_as_differences() -> None:
    session = ReplaySession(Replay(RECORDING))
    config = {**CONFIG, "domain": None, "max_delay": 0.70}
    assert (
        warnings(session.receive_text(json.dumps({**START, "transcription_config": config}), 0))
        == []
    )


def reference(data: bytes) -> ReferenceAudio:
    return ReferenceAudio(path=Path("speech.wav"), data=data, seconds=len(data) / 32000)


def test_the_same_audio_gets_no_warning() -> None:
    session = started(reference=reference(AUDIO))
    out = session.receive_binary(AUDIO[:FRAME], 0.1) + session.receive_binary(AUDIO[FRAME:], 0.2)
    out += session.receive_text(json.dumps({"message": "EndOfStream", "last_seq_no": 2}), 0.2)
    assert warnings(out) == []


def test_audio_departing_from_the_recordings_is_reported_as_it_arrives() -> None:
    session = started(reference=reference(AUDIO))
    changed = bytearray(AUDIO)
    changed[4800] ^= 0xFF  # sample 2400: 0.15 s
    first = session.receive_binary(bytes(changed[:FRAME]), 0.1)
    assert warnings(first) == []
    second = session.receive_binary(bytes(changed[FRAME:]), 0.2)
    assert warnings(second) == [
        "replay of messages.jsonl: the audio differs from the recording's from 0.15 s on; "
        "the transcripts replayed are of the recording's audio (speech.wav)"
    ]
    end = session.receive_text(json.dumps({"message": "EndOfStream", "last_seq_no": 2}), 0.2)
    assert warnings(end) == []  # same length: said once is enough


def test_shorter_audio_is_reported_at_end_of_stream_with_both_hashes() -> None:
    session = started(reference=reference(AUDIO))
    assert warnings(session.receive_binary(AUDIO[:FRAME], 0.1)) == []  # a prefix: no difference yet
    end = session.receive_text(json.dumps({"message": "EndOfStream", "last_seq_no": 1}), 0.1)
    [reason] = warnings(end)
    digest = hashlib.sha256
    assert reason == (
        "replay of messages.jsonl: 0.10 s of audio received, the recording's audio is 0.20 s "
        f"(sha256 {digest(AUDIO[:FRAME]).hexdigest()[:12]}, "
        f"the recording's {digest(AUDIO).hexdigest()[:12]})"
    )


def test_without_a_reference_the_recorded_length_is_checked() -> None:
    session = started()  # RECORDING.audio_seconds = 1.2
    stream(session, 1.2)
    end = session.receive_text(json.dumps({"message": "EndOfStream", "last_seq_no": 12}), 1.2)
    assert warnings(end) == []


# --- protocol rules ---------------------------------------------------------------------------


def test_audio_before_start_recognition_is_a_protocol_error() -> None:
    session = ReplaySession(Replay(RECORDING))
    out = session.receive_binary(b"\0" * 320, now=0.0)
    assert sent(out[:1])[0]["type"] == "protocol_error"
    assert out[1] == Close(1003, "protocol_error")


def test_requests_a_recording_cannot_honour_get_a_warning() -> None:
    session = started()
    out = session.receive_text(json.dumps({"message": "ForceEndOfUtterance"}), now=0.1)
    assert warnings(out) == [
        "replay of messages.jsonl: ForceEndOfUtterance cannot change a recorded session; "
        "it was ignored"
    ]
    assert not session.finished
