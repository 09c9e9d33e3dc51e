"""ServerSession: the server's protocol rules with plain messages, no sockets.

A small synchronous driver plays the transport: it carries out the session's
actions in order and runs engine commands on :class:`ToneRecognizer`, a real
recognizer that turns tones into named words.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
from collections import deque
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from smnb.protocol.messages import ServerMessage
from smnb.server.protocol.actions import (
    Action,
    Close,
    Feed,
    Finish,
    ForceEnd,
    OpenChannels,
    QuerySpeakers,
    Reconfigure,
    Send,
)
from smnb.server.protocol.session import ServerSession, State
from smnb.server.protocol.transcript import EOU_PENDING_GRACE, PARTIAL_INTERVAL
from tests.support import server_messages
from tests.support.client import tone_server
from tests.support.rt_stream import converse
from tests.support.server_fakes import ToneRecognizer, s16, speech

SERVER_TYPES = {t.value for t in ServerMessage}
RAW16 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
SCRIPT = ["alpha", 0.1, "bravo", 0.6, "charlie", 0.1, "delta", 0.5]
"""Two utterances: 'Alpha bravo.' and 'Charlie delta.'"""


class Driver:
    """Plays the transport for one session, synchronously."""

    def __init__(self, *, utterance_gap: float = 0.3, **kwargs: Any) -> None:
        self.session = ServerSession("sid-1", **kwargs)
        self.utterance_gap = utterance_gap
        self.recognizers: dict[str | None, ToneRecognizer] = {}
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self.run(self.session.opened())

    def run(self, actions: list[Action]) -> list[dict[str, Any]]:
        first = len(self.sent)
        queue = deque(actions)
        while queue:
            action = queue.popleft()
            if isinstance(action, Send):
                assert action.message["message"] in SERVER_TYPES  # legacy clients crash otherwise
                json.dumps(action.message)  # must be serialisable
                server_messages.record(action.message)  # and valid (tests/conftest.py)
                self.sent.append(action.message)
            elif isinstance(action, Close):
                assert self.closed is None
                self.closed = (action.code, action.reason)
                break
            else:
                result = self.execute(action)
                queue.extendleft(reversed(self.session.engine_done(action, result)))
        return self.sent[first:]

    def execute(self, action: Action) -> Any:
        if isinstance(action, OpenChannels):
            for label in action.channels:
                self.recognizers[label] = ToneRecognizer(
                    action.settings, utterance_gap=self.utterance_gap
                )
            return None
        if isinstance(action, QuerySpeakers):
            out: dict[str, list[str]] = {}
            for rec in self.recognizers.values():
                out.update(rec.speakers())
            return out
        assert isinstance(action, Feed | ForceEnd | Finish | Reconfigure)
        rec = self.recognizers[action.channel]
        if isinstance(action, Reconfigure):
            return rec.reconfigure(action.max_delay, action.max_delay_mode)
        if isinstance(action, Feed):
            return rec.feed(action.samples)
        if isinstance(action, ForceEnd):
            return rec.force_end_of_utterance()
        return rec.finish()

    def text(self, msg: dict[str, Any] | str) -> list[dict[str, Any]]:
        return self.run(self.session.receive_text(msg if isinstance(msg, str) else json.dumps(msg)))

    def binary(self, data: bytes) -> list[dict[str, Any]]:
        return self.run(self.session.receive_binary(data))

    def start(self, audio_format: dict[str, Any] | None = None, **config: Any) -> None:
        msg = {
            "message": "StartRecognition",
            "audio_format": audio_format or RAW16,
            "transcription_config": {"language": "en", **config},
        }
        self.text(msg)

    def stream(self, data: bytes, chunk: int = 4096) -> None:
        for i in range(0, len(data), chunk):
            self.binary(data[i : i + chunk])

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if m["message"] == kind]

    def error(self) -> tuple[str, int]:
        errors = self.of("Error")
        assert len(errors) == 1 and self.sent[-1] is errors[0], self.sent[-3:]
        assert self.closed is not None
        # The close payload is the documented one for the code (API reference, WebSocket
        # errors): 1008 policy_violation, 1011 internal_error, else the error type.
        documented = {1008: "policy_violation", 1011: "internal_error"}
        assert self.closed[1] == documented.get(self.closed[0], errors[0]["type"])
        return errors[0]["type"], self.closed[0]


def transcript(msgs: list[dict[str, Any]]) -> str:
    return "".join(m["metadata"]["transcript"] for m in msgs)


# --- the happy path ---------------------------------------------------------------


def test_full_session_messages_and_order() -> None:
    d = Driver()
    assert d.sent[0]["message"] == "Info" and d.sent[0]["type"] == "concurrent_session_usage"
    d.start(max_delay=1.0)
    started, quality = d.sent[1:3]
    assert started == {
        "message": "RecognitionStarted",
        "orchestrator_version": started["orchestrator_version"],
        "id": "sid-1",
        "language_pack_info": {
            "adapted": False,
            "itn": False,
            "language_description": "English",
            "word_delimiter": " ",
            "writing_direction": "left-to-right",
        },
    }
    assert quality["type"] == "recognition_quality" and quality["quality"] == "broadcast"
    audio = s16(speech(SCRIPT))
    d.stream(audio)
    n_frames = -(-len(audio) // 4096)
    assert [m["seq_no"] for m in d.of("AudioAdded")] == list(range(1, n_frames + 1))
    d.text({"message": "EndOfStream", "last_seq_no": 3})  # any value is fine
    assert d.sent[-1] == {"message": "EndOfTranscript"}
    assert d.session.state is State.DONE and d.closed is None
    finals = d.of("AddTranscript")
    assert transcript(finals) == "Alpha bravo. Charlie delta. "
    for msg in finals:
        assert msg["format"] == "2.9"
        assert set(msg) == {"message", "format", "metadata", "results"}
        assert not msg["results"] or msg["metadata"]["transcript"].endswith(" ")
    # finals tile the timeline
    for before, after in itertools.pairwise(finals):
        assert after["metadata"]["start_time"] == before["metadata"]["end_time"]
    words = [r for msg in finals for r in msg["results"]]
    periods = [r for r in words if r["type"] == "punctuation"]
    assert len(periods) == 2
    for p in periods:
        assert p["attaches_to"] == "previous" and p["is_eos"] is True
        assert p["start_time"] == p["end_time"]
        assert p["alternatives"] == [{"content": ".", "confidence": 1.0, "language": "en"}]
    word = next(r for r in words if r["type"] == "word")
    assert set(word) == {"type", "start_time", "end_time", "alternatives"}
    assert set(word["alternatives"][0]) == {"content", "confidence", "language"}
    # nothing after EndOfTranscript, even audio
    assert d.binary(audio[:4096]) == [] and d.text({"message": "EndOfStream"}) == []


def test_acks_follow_decoding_and_transcripts_follow_acks() -> None:
    d = Driver()
    d.start(max_delay=0.7)
    d.stream(s16(speech(SCRIPT)))
    kinds = [m["message"] for m in d.sent if m["message"] != "AudioAdded"]
    first_final = d.sent.index(d.of("AddTranscript")[0])
    assert d.sent[first_final - 1]["message"] == "AudioAdded"  # ack, then what it produced
    assert "EndOfTranscript" not in kinds


def test_audio_is_fed_at_once_and_cut_on_the_partial_cadence() -> None:
    d = Driver()
    d.start()
    audio = s16(speech(["alpha", 1.0]))
    d.stream(audio, chunk=333)  # odd byte counts split samples
    rec = d.recognizers[None]
    assert sum(rec.fed) == len(audio) // 2  # nothing held back
    step = round(PARTIAL_INTERVAL * 16000)
    position = 0
    for n in rec.fed:  # no piece crosses a multiple of the partial interval
        assert position // step == (position + n - 1) // step
        position += n
    d = Driver()
    d.start()
    d.binary(audio)  # one big frame: many pieces
    assert max(d.recognizers[None].fed) == step


def test_partials_on_a_regular_audio_cadence_and_after_each_final() -> None:
    d = Driver()
    d.start(enable_partials=True, max_delay=2.0)
    d.stream(s16(speech([*SCRIPT, 1.5])), chunk=8192)  # big frames: cadence must not follow them
    d.text({"message": "EndOfStream", "last_seq_no": 0})
    partials = d.of("AddPartialTranscript")
    finals = d.of("AddTranscript")
    cadence = [p["metadata"]["end_time"] for p in partials]
    on_grid = [t for t in cadence if abs(t / PARTIAL_INTERVAL - round(t / PARTIAL_INTERVAL)) < 1e-6]
    assert len(on_grid) >= int(4.0 / PARTIAL_INTERVAL) - 1  # ~every 0.36 s of audio
    assert any(not p["results"] for p in partials)  # empty partials in silence
    for final in finals:
        after = d.sent[d.sent.index(final) + 1]
        assert after["message"] == "AddPartialTranscript"
        assert after["metadata"]["start_time"] == final["metadata"]["end_time"]
    # the last partial is empty and the session ends right after it
    assert d.sent[-2]["message"] == "AddPartialTranscript" and d.sent[-2]["results"] == []


def test_no_partials_unless_enabled() -> None:
    d = Driver()
    d.start()
    d.stream(s16(speech(SCRIPT)))
    d.text({"message": "EndOfStream", "last_seq_no": 0})
    assert d.of("AddPartialTranscript") == []


def test_empty_finals_mark_long_silence() -> None:
    d = Driver()
    d.start(max_delay=1.0)
    d.stream(s16(speech(["alpha", 6.0])))
    empty = [m for m in d.of("AddTranscript") if not m["results"]]
    assert empty and all(m["metadata"]["transcript"] == "" for m in empty)
    assert empty[0]["metadata"]["end_time"] > empty[0]["metadata"]["start_time"]


def test_file_audio_wav_in_pieces_transcribes_like_raw() -> None:
    audio = speech(SCRIPT, rate=44100)
    buf = io.BytesIO()
    sf.write(buf, np.stack([audio, audio], axis=1), 44100, format="WAV", subtype="PCM_16")
    d = Driver()
    d.start({"type": "file"}, max_delay=1.0)
    d.stream(buf.getvalue(), chunk=1000)
    d.text({"message": "EndOfStream", "last_seq_no": 0})
    assert transcript(d.of("AddTranscript")) == "Alpha bravo. Charlie delta. "


@pytest.mark.parametrize(
    ("audio_format", "encode"),
    [
        ({"type": "raw", "encoding": "pcm_f32le", "sample_rate": 48000}, "f32"),
        ({"type": "raw", "encoding": "pcm_s16le", "sample_rate": 8000}, "s16"),
    ],
)
def test_raw_audio_at_other_rates(audio_format: dict[str, Any], encode: str) -> None:
    x = speech(SCRIPT, rate=audio_format["sample_rate"])
    data = x.astype("<f4").tobytes() if encode == "f32" else s16(x)
    d = Driver()
    d.start(audio_format, max_delay=1.0)
    d.stream(data)
    d.text({"message": "EndOfStream", "last_seq_no": 0})
    assert transcript(d.of("AddTranscript")) == "Alpha bravo. Charlie delta. "
    quality = "telephony" if audio_format["sample_rate"] < 12000 else "broadcast"
    assert d.of("Info")[-1]["quality"] == quality


# --- end of utterance ---------------------------------------------------------------


def test_end_of_utterance_once_per_silence() -> None:
    d = Driver()
    d.start(max_delay=4.0, conversation_config={"end_of_utterance_silence_trigger": 0.5})
    d.stream(s16(speech(["alpha", 0.1, "bravo", 2.0, "charlie", 1.0])))
    eous = d.of("EndOfUtterance")
    assert len(eous) == 2
    for eou in eous:
        i = d.sent.index(eou)
        before = [m["message"] for m in d.sent[i - 2 : i] if m["message"] != "AudioAdded"]
        assert "AddTranscript" in before
        assert eou["metadata"]["start_time"] == eou["metadata"]["end_time"]
        assert "forced" not in eou
    # the words were committed by the EOU, well before max_delay (4 s) would have
    assert transcript(d.of("AddTranscript")) == "Alpha bravo. Charlie. "
    first = eous[0]["metadata"]["end_time"]
    assert 1.2 <= first <= 1.3  # 'bravo' ends at 0.7; trigger 0.5 on a 30 ms grid


def test_end_of_utterance_commits_words_the_recognizer_still_holds() -> None:
    # A recognizer that never hears the pause itself: the trigger forces the commit, but
    # only after a grace period, since provisional words may just lag behind the audio.
    d = Driver(utterance_gap=60.0)
    d.start(max_delay=4.0, conversation_config={"end_of_utterance_silence_trigger": 0.5})
    d.stream(s16(speech(["alpha", 2.0])))
    (eou,) = d.of("EndOfUtterance")
    assert 0.3 + 0.5 + EOU_PENDING_GRACE <= eou["metadata"]["end_time"] <= 0.3 + 1.2 + 0.1
    final = d.sent[d.sent.index(eou) - 1]
    assert final["message"] == "AddTranscript" and final["metadata"]["transcript"] == "Alpha. "


def test_no_end_of_utterance_without_trigger_or_speech() -> None:
    d = Driver()
    d.start(conversation_config={"end_of_utterance_silence_trigger": 0.5})
    d.stream(s16(speech([3.0])))
    assert d.of("EndOfUtterance") == []
    d = Driver()
    d.start()
    d.stream(s16(speech(["alpha", 2.0])))
    assert d.of("EndOfUtterance") == []


@pytest.mark.parametrize(
    ("extra", "warned"),
    [({}, False), ({"timestamp": 0.35}, False), ({"timestamp": None}, False),
     ({"timestamp": 99.0}, True), ({"timestamp": 0.1}, True)],
)  # fmt: skip
def test_force_end_of_utterance(extra: dict[str, Any], warned: bool) -> None:
    d = Driver()
    d.start(max_delay=4.0)
    d.stream(s16(speech(["alpha", 0.05])))  # 0.35 s of audio
    assert d.of("AddTranscript") == []
    out = d.text({"message": "ForceEndOfUtterance", **extra})
    if warned:  # the forced end falls at the audio received (0.35 s), not at the timestamp
        warning = out.pop(0)
        assert (warning["message"], warning["type"]) == ("Warning", "validation_warning")
        assert warning["reason"] == (
            f"ForceEndOfUtterance.timestamp {extra['timestamp']:g} s is not applied: the "
            "utterance ends at the 0.35 s of audio received so far"
        )
    kinds = [m["message"] for m in out]
    assert kinds == ["AddTranscript", "EndOfUtterance"]
    assert out[0]["forced"] is True and out[1]["forced"] is True
    assert out[0]["metadata"]["transcript"] == "Alpha. "


# --- errors and their close codes ------------------------------------------------------

START = {"message": "StartRecognition", "audio_format": RAW16}


@pytest.mark.parametrize(
    ("frames", "error_type", "code"),
    [
        (["{not json"], "invalid_message", 1008),
        (['{"no": "message field"}'], "invalid_message", 1008),
        ([{"message": "Hello"}], "invalid_message", 1008),
        ([{"message": "AddAudio"}], "invalid_message", 1008),
        ([b"\x00\x01"], "protocol_error", 1003),
        ([{"message": "EndOfStream", "last_seq_no": 0}], "protocol_error", 1003),
        ([{**START, "transcription_config": {"language": "en"}}] * 2, "protocol_error", 1003),
        ([{**START, "transcription_config": {"language": "fr"}}], "invalid_language", 1008),
        ([{**START, "transcription_config": {"language": "en", "max_delay": 10}}],
         "invalid_config", 1008),
        ([{**START, "transcription_config": {"language": "en",
           "punctuation_overrides": {"permitted_marks": ["ab"]}}}], "invalid_config", 1008),
        ([{**START, "transcription_config": {"language": "en", "transcript_filtering_config":
           {"replacements": [{"from": "/(unclosed/", "to": "x"}]}}}], "invalid_config", 1008),
        ([{**START, "transcription_config": {"language": "en", "diarization": "channel"}}],
         "invalid_config", 1008),
        ([{**START, "transcription_config": {"language": "en"},
           "translation_config": {"target_languages": ["de"] * 6}}], "invalid_config", 1008),
        ([{"message": "StartRecognition", "transcription_config": {"language": "en"},
           "audio_format": {"type": "raw", "encoding": "opus", "sample_rate": 16000}}],
         "invalid_audio_type", 1008),
        ([{"message": "StartRecognition", "transcription_config": {"language": "en"},
           "audio_format": {"type": "raw", "encoding": "mulaw", "sample_rate": 1000}}],
         "invalid_audio_type", 1008),
        ([{"message": "StartRecognition", "transcription_config": {"language": "en"},
           "audio_format": {"type": "file"}}, b"this is plainly not audio"],
         "invalid_audio_type", 1008),
        ([{"message": "StartRecognition", "transcription_config": {"language": "en"},
           "audio_format": {"type": "file"}},
          b"RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00"
          b"\x02\x00\x00\x00\x02\x00\x10\x00data\xff\xff\xff\xff"],
         "invalid_audio_type", 1008),
        (["[" * 5000 + "]" * 5000], "invalid_message", 1008),
        ([{"message": "StartRecognition", "transcription_config": {"language": "en"},
           "audio_format": {"type": "file"}}, b"ID3", {"message": "EndOfStream"}],
         "invalid_audio_type", 1008),
        ([{**START, "transcription_config": {"language": "en"}},
          {"message": "AddChannelAudio", "channel": "left", "data": ""}], "protocol_error", 1003),
        ([{**START, "transcription_config": {"language": "en"}},
          {"message": "SetRecognitionConfig",
           "transcription_config": {"language": "en", "diarization": "speaker"}}],
         "invalid_config", 1008),
        ([{**START, "transcription_config": {"language": "en"}},
          {"message": "SetRecognitionConfig", "transcription_config": {"language": "de"}}],
         "invalid_language", 1008),
    ],
)  # fmt: skip
def test_errors_and_close_codes(frames: list[Any], error_type: str, code: int) -> None:
    d = Driver()
    for frame in frames:
        if isinstance(frame, bytes):
            d.binary(frame)
        else:
            d.text(frame)
    assert d.error() == (error_type, code)
    assert d.session.finished
    assert d.text({"message": "EndOfStream", "last_seq_no": 0}) == []  # nothing after an Error


def test_path_language_must_match_the_config() -> None:
    d = Driver(path_language="de")
    d.start()
    assert d.error() == ("invalid_language", 1008)
    d = Driver(path_language="en")
    d.start()
    assert d.of("RecognitionStarted")


def test_engine_failure_is_a_job_error() -> None:
    d = Driver()
    d.start()
    d.run(d.session.engine_failed("worker died"))
    assert d.error() == ("job_error", 4013)


def test_defaults_and_client_variants_are_accepted() -> None:
    d = Driver()  # no audio_format at all (JS/Melia examples), model, vocab, extras
    d.text({
        "message": "StartRecognition",
        "transcription_config": {
            "language": "en", "model": "enhanced", "enable_entities": True,
            "additional_vocab": ["smnb", {"content": "Speechmatics", "sounds_like": ["speech"]}],
            "audio_filtering_config": {"volume_threshold": 0.0}, "output_locale": "en-GB",
        },
        "audio_events_config": {},
        "translation_config": {"target_languages": ["de"]},
    })  # fmt: skip
    assert d.of("RecognitionStarted") and d.closed is None
    kinds = [w["type"] for w in d.of("Warning")]
    assert kinds[-2:] == ["unsupported_translation_pair", "empty_translation_target_list"]
    settings = d.recognizers[None].settings
    assert settings.additional_vocab[0] == "smnb"
    assert settings.max_delay == 4.0 and settings.max_delay_mode == "flexible"


# --- mid-session messages ---------------------------------------------------------


def test_legacy_set_recognition_config_with_its_full_config() -> None:
    config = {"language": "en", "operating_point": "enhanced", "diarization": "none"}
    d = Driver()
    d.start(**config)
    d.stream(s16(speech(["alpha", 0.5])))
    assert d.of("AddPartialTranscript") == []
    d.text({
        "message": "SetRecognitionConfig",
        "transcription_config": {**config, "enable_partials": True,
                                 "conversation_config": {"end_of_utterance_silence_trigger": 0.3}},
        "audio_events_config": {},
    })  # fmt: skip
    assert d.closed is None
    d.stream(s16(speech(["bravo", 1.0])))
    assert d.of("AddPartialTranscript") and d.of("EndOfUtterance")


def final_positions(d: Driver, audio: bytes, chunk: int = 1600) -> dict[str, float]:
    """Stream ``audio``; the audio sent (seconds) when each word's final came."""
    out: dict[str, float] = {}
    for i in range(0, len(audio), chunk):
        for msg in d.binary(audio[i : i + chunk]):
            for r in msg.get("results", []) if msg["message"] == "AddTranscript" else []:
                out.setdefault(r["alternatives"][0]["content"], (i + chunk) / 32000)
    return out


@pytest.mark.parametrize(("before", "after"), [(4.0, 1.0), (1.0, 4.0)])
def test_set_recognition_config_max_delay_applies_to_words_not_yet_final(
    before: float, after: float
) -> None:
    d = Driver(utterance_gap=10.0)  # words are committed by their max_delay deadline alone
    d.start(max_delay=before, max_delay_mode="fixed")
    sent = final_positions(d, s16(speech(["alpha", 0.5])))  # alpha ends at 0.3, pending
    assert sent == {}
    actions = d.session.receive_text(json.dumps({
        "message": "SetRecognitionConfig", "transcription_config": {"max_delay": after},
    }))  # fmt: skip
    assert actions == [Reconfigure(None, after, "fixed")]
    d.run(actions)
    offset = 0.8
    sent = {w: offset + t for w, t in final_positions(d, s16(speech(["bravo", 6.0]))).items()}
    # ToneRecognizer commits max_delay - 0.2 s of audio after a word's end
    assert sent["Alpha"] == pytest.approx(max(offset, 0.3 + after - 0.2), abs=0.11)
    assert sent["bravo"] == pytest.approx(offset + 0.3 + after - 0.2, abs=0.11)


def test_set_recognition_config_reconfigures_only_on_a_change() -> None:
    config = {"language": "en", "max_delay": 2.0, "operating_point": "enhanced"}
    d = Driver()
    d.start(**config)
    d.stream(s16(speech(["alpha", 0.5])))

    def reconfigures(change: dict[str, Any]) -> list[Action]:
        msg = {"message": "SetRecognitionConfig", "transcription_config": {**config, **change}}
        return [a for a in d.session.receive_text(json.dumps(msg)) if isinstance(a, Reconfigure)]

    assert reconfigures({}) == []  # the legacy client resends its whole config
    assert reconfigures({"enable_partials": True}) == []
    assert reconfigures({"max_delay_mode": "fixed"}) == [Reconfigure(None, 2.0, "fixed")]
    d.text({"message": "EndOfStream", "last_seq_no": 0})
    assert reconfigures({"max_delay": 1.0}) == []  # the session is over


def test_get_speakers_now_and_at_the_end() -> None:
    d = Driver()
    d.start(diarization="speaker", max_delay=1.0)
    d.stream(s16(speech(["alpha", 1.0])))
    assert d.text({"message": "GetSpeakers"}) == [
        {
            "message": "SpeakersResult",
            "speakers": [{"label": "S1", "speaker_identifiers": ["spk-1"]}],
        }
    ]
    assert d.text({"message": "GetSpeakers", "final": True}) == []
    d.text({"message": "EndOfStream", "last_seq_no": 0})
    assert [m["message"] for m in d.sent[-2:]] == ["SpeakersResult", "EndOfTranscript"]
    words = [r for m in d.of("AddTranscript") for r in m["results"]]
    assert words and all(r["alternatives"][0]["speaker"] == "S1" for r in words)


def test_get_speakers_config_flag_sends_them_at_the_end() -> None:
    d = Driver()
    d.start(diarization="speaker", speaker_diarization_config={"get_speakers": True})
    d.stream(s16(speech(["alpha", 0.5])))
    d.text({"message": "EndOfStream", "last_seq_no": 0})
    assert [m["message"] for m in d.sent[-2:]] == ["SpeakersResult", "EndOfTranscript"]


# --- multichannel ----------------------------------------------------------------


def channel_frames(label: str, data: bytes, chunk: int = 4096) -> list[dict[str, Any]]:
    return [
        {"message": "AddChannelAudio", "channel": label,
         "data": base64.b64encode(data[i : i + chunk]).decode()}
        for i in range(0, len(data), chunk)
    ]  # fmt: skip


def test_multichannel_session() -> None:
    d = Driver()
    d.start(diarization="channel", channel_diarization_labels=["left", "right"], max_delay=1.0)
    assert d.of("RecognitionStarted")[0]["channel_ids"] == ["left", "right"]
    left = channel_frames("left", s16(speech(["alpha", 0.1, "bravo", 0.5])))
    right = channel_frames("right", s16(speech([0.2, "charlie", 0.8])))
    for a, b in zip(left, right, strict=False):
        d.text(a)
        d.text(b)
    acks = d.of("ChannelAudioAdded")
    for label in ("left", "right"):
        seqs = [a["seq_no"] for a in acks if a["channel"] == label]
        assert seqs == list(range(1, min(len(left), len(right)) + 1))
    assert d.of("AudioAdded") == []
    d.text({"message": "EndOfChannel", "channel": "left", "last_seq_no": 1})
    assert d.of("EndOfTranscript") == []
    # audio for a closed channel is ignored with a warning
    d.text(left[0])
    assert d.of("Warning")[-1]["type"] == "add_audio_after_eos"
    d.text({"message": "EndOfChannel", "channel": "right", "last_seq_no": 1})
    assert d.sent[-1] == {"message": "EndOfTranscript"}
    finals = d.of("AddTranscript")
    by_channel = {
        label: transcript([m for m in finals if m["channel"] == label])
        for label in ("left", "right")
    }
    assert by_channel == {"left": "Alpha bravo. ", "right": "Charlie. "}
    for msg in finals:
        assert all(r["channel"] == msg["channel"] for r in msg["results"])  # root and results


def test_multichannel_end_of_stream_closes_every_channel() -> None:
    d = Driver()
    d.start(diarization="channel", channel_diarization_labels=["a", "b"], enable_partials=True)
    for frame in channel_frames("a", s16(speech(["alpha", 0.3]))):
        d.text(frame)
    d.text({"message": "EndOfStream", "last_seq_no": 0})
    assert d.sent[-1] == {"message": "EndOfTranscript"}
    assert all("channel" in m for m in d.of("AddPartialTranscript"))


@pytest.mark.parametrize(
    ("frame", "error_type"),
    [
        ({"message": "AddChannelAudio", "channel": "centre", "data": ""}, "invalid_message"),
        ({"message": "AddChannelAudio", "channel": "a", "data": "%%%"}, "invalid_message"),
        ({"message": "EndOfChannel", "channel": "centre", "last_seq_no": 0}, "invalid_message"),
        (b"\x00\x00", "protocol_error"),
    ],
)
def test_multichannel_errors(frame: Any, error_type: str) -> None:
    d = Driver()
    d.start(diarization="channel", channel_diarization_labels=["a", "b"])
    if isinstance(frame, bytes):
        d.binary(frame)
    else:
        d.text(frame)
    assert d.error()[0] == error_type


def test_multichannel_force_end_of_utterance_per_channel() -> None:
    d = Driver()
    d.start(diarization="channel", channel_diarization_labels=["a", "b"], max_delay=4.0)
    for frame in channel_frames("a", s16(speech(["alpha", 0.05]))):
        d.text(frame)
    out = d.text({"message": "ForceEndOfUtterance", "channel": "a"})
    assert [(m["message"], m["channel"]) for m in out] == [
        ("AddTranscript", "a"),
        ("EndOfUtterance", "a"),
    ]
    out = d.text({"message": "ForceEndOfUtterance"})  # no channel: every channel
    assert {m["channel"] for m in out if m["message"] == "EndOfUtterance"} == {"a", "b"}


HOSTILE: list[Any] = [
    {"message": 5},
    {"message": "StartRecognition"},
    {"message": "StartRecognition", "transcription_config": "en"},
    {"message": "StartRecognition", "transcription_config": {"language": 7}},
    {**START, "transcription_config": {"language": "en", "max_delay": "soon"}},
    {**START, "transcription_config": {"language": "en", "conversation_config": []}},
    {**START, "transcription_config": {"language": "en", "additional_vocab": [{}]}},
    {**START, "transcription_config": {"language": "en", "speaker_diarization_config": 3}},
    {**START, "transcription_config": {"language": "en", "channel_diarization_labels": ["a"]}},
    {**START, "transcription_config": {"language": "en"}, "translation_config": "de"},
    {**START, "transcription_config": {"language": "en"}, "audio_events_config": []},
    {**START, "transcription_config": {"language": "en"}, "audio_format": "wav"},
    {**START, "transcription_config": {"language": "en"},
     "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": True}},
]  # fmt: skip
AFTER_START: list[Any] = [
    {"message": "ForceEndOfUtterance", "channel": 5, "timestamp": "x"},
    {"message": "GetSpeakers", "final": "yes"},
    {"message": "EndOfChannel", "channel": None},
    {"message": "SetRecognitionConfig", "transcription_config": "x"},
    {"message": "SetRecognitionConfig", "transcription_config": {"max_delay": 99}},
    {"message": "AddChannelAudio", "channel": "a", "data": 5},
    {"message": "EndOfStream", "last_seq_no": "many"},
    b"",
    b"\x01",
]


@pytest.mark.parametrize("frame", HOSTILE)
def test_hostile_start_messages_end_in_an_error_not_an_exception(frame: Any) -> None:
    d = Driver()
    d.text(frame)
    assert d.session.state in (State.RUNNING, State.FAILED)
    if d.session.state is State.FAILED:
        d.error()


@pytest.mark.parametrize("frame", AFTER_START)
def test_hostile_messages_mid_session_never_raise(frame: Any) -> None:
    d = Driver()
    d.start()
    d.stream(s16(speech(["alpha", 0.2])))
    d.binary(frame) if isinstance(frame, bytes) else d.text(frame)
    if d.session.state is State.FAILED:
        d.error()
    else:  # the session is still usable
        d.text({"message": "EndOfStream", "last_seq_no": 0})
        assert d.sent[-1] == {"message": "EndOfTranscript"}


# --- control messages on a real socket -------------------------------------------------

START_MONO = {"message": "StartRecognition", "audio_format": RAW16,
              "transcription_config": {"language": "en"}}  # fmt: skip
TWO = {"language": "en", "diarization": "channel", "channel_diarization_labels": ["a", "b"]}
START_AB = {**START_MONO, "transcription_config": TWO}


# (malformed control fields: tests/server/protocol/test_control.py)


@pytest.mark.parametrize(
    "frame",
    [
        {"message": "ForceEndOfUtterance", "channel": "zz"},
        {"message": "EndOfChannel", "channel": "zz", "last_seq_no": 0},
    ],
)
async def test_a_channel_in_a_single_stream_session_is_refused_alike(
    frame: dict[str, Any],
) -> None:
    async with tone_server() as url:
        out = await converse(url, START_MONO, [s16(speech(["alpha", 0.1])), frame])
    assert out[-1] == {
        "message": "Error",
        "type": "protocol_error",
        "reason": "channel messages need a channel-diarized session",
    }


async def test_a_timestamp_is_honoured_where_it_points_and_warned_elsewhere() -> None:
    audio = s16(speech(["alpha", 0.1]))  # 0.4 s
    at_end = {"message": "ForceEndOfUtterance", "timestamp": 0.4}
    early = {"message": "ForceEndOfUtterance", "timestamp": 0.1}
    async with tone_server() as url:
        honoured = await converse(url, START_MONO, [audio, at_end])
        warned = await converse(url, START_MONO, [audio, early])
    for out in (honoured, warned):
        kinds = [m["message"] for m in out]
        assert kinds[-1] == "EndOfTranscript"
        forced = [m for m in out if m["message"] == "EndOfUtterance"]
        assert [m.get("forced") for m in forced] == [True]  # the forced end is done either way
    assert not [m for m in honoured if m["message"] == "Warning"]
    (warning,) = [m for m in warned if m["message"] == "Warning"]
    assert warning["reason"].startswith("ForceEndOfUtterance.timestamp 0.1 s is not applied")
