"""Every message of a broad set of sessions, through the real server and engine, is valid RT v2.

The sessions cover every server message type the local server can send, every warning and
every error it can be driven to, with each option the server honours or warns about. Each
message is checked against the official AsyncAPI spec (vendored in
``tests/fixtures/rt-spec/``, read by :mod:`tests.support.rt_schema`), here explicitly, and by
the suite-wide recorder for every other test.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from smnb.server import voiceprint
from smnb.server.voiceprint import Voiceprint
from tests.support.rt_schema import SERVER_MESSAGES, problems

from .conftest import SAMPLES
from .test_legacy_cli import legacy_cli, run_cli  # noqa: F401 (legacy_cli is a fixture)

pytestmark = pytest.mark.timeout(300)

RAW16 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
Message = dict[str, Any]


def pcm(name: str, rate: int = 16000) -> bytes:
    audio, file_rate = sf.read(SAMPLES / f"{name}.wav", dtype="int16")
    assert file_rate == rate
    return np.asarray(audio).tobytes()


def wav8k(name: str) -> bytes:
    audio, _ = sf.read(SAMPLES / f"{name}.wav", dtype="float32")
    out = io.BytesIO()
    sf.write(out, audio[::2], 8000, format="WAV", subtype="PCM_16")
    return out.getvalue()


async def session(
    url: str,
    start: Message,
    frames: list[bytes | Message],
    *,
    end: bool = True,
) -> list[Message]:
    """Send ``start``, then ``frames`` (binary audio or JSON messages), then ``EndOfStream``;
    every message until ``EndOfTranscript``, ``Error`` or the close."""
    received: list[Message] = []
    async with connect(url, max_size=None) as ws:
        try:
            await ws.send(json.dumps({"message": "StartRecognition", **start}))
            sent = 0
            for frame in frames:
                await ws.send(frame if isinstance(frame, bytes) else json.dumps(frame))
                sent += isinstance(frame, bytes)
            if end:
                await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": sent}))
        except ConnectionClosed:
            pass  # an Error closed the session early: read what was sent
        with contextlib.suppress(ConnectionClosed):
            async for text in ws:
                received.append(json.loads(text))
                if received[-1]["message"] in ("EndOfTranscript", "Error"):
                    break
    return received


def chunks(data: bytes, size: int = 8000) -> list[bytes | Message]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def config(**fields: Any) -> Message:
    return {"audio_format": RAW16, "transcription_config": {"language": "en", **fields}}


FOREIGN_ID = "not-an-identifier"
ENROLLED = voiceprint.encode(Voiceprint(500, (1.0,) * 16, (4.9,) * 9))


async def test_a_broad_set_of_sessions_sends_only_valid_messages(server_url: str) -> None:
    short, longer = pcm("cards-003"), pcm("librivox-ss01-0880")
    stereo, _ = sf.read(SAMPLES / "stereo-two-channels.wav", dtype="int16")
    left, right = (np.ascontiguousarray(stereo[: 16000 * 4, i]).tobytes() for i in (0, 1))
    every_warning = {
        "audio_format": {"type": "file", "sample_rate": 8000},
        "transcription_config": {
            "language": "en", "domain": "finance", "output_locale": "en-GB",
            "enable_entities": True, "language_hints": ["en"], "unknown_field": 1,
            "model": "enhanced", "operating_point": "standard",
            "diarization": "speaker", "speaker_diarization_config": {"speakers": [
                {"label": "Alice", "speaker_identifiers": [ENROLLED, FOREIGN_ID]}]},
        },
        "translation_config": {"target_languages": ["de", "fr"], "enable_partials": True},
        "audio_events_config": {"types": ["applause", "music"]},
    }  # fmt: skip
    options = config(
        enable_partials=True,
        max_delay=1.0,
        punctuation_overrides={"permitted_marks": [","], "sensitivity": 0.9},
        transcript_filtering_config={
            "remove_disfluencies": True,
            "replacements": [{"from": "he", "to": "He!"}, {"from": "/(o)/", "to": "[$1]"}],
        },
        audio_filtering_config={"volume_threshold": 1.0},
    )
    mid = {
        "message": "SetRecognitionConfig",
        "transcription_config": {"language": "en", "enable_partials": False,
                                 "audio_filtering_config": {"volume_threshold": 0.5}},
    }  # fmt: skip

    def channel(label: str, data: bytes) -> Message:
        return {"message": "AddChannelAudio", "channel": label,
                "data": base64.b64encode(data).decode()}  # fmt: skip

    multichannel = [
        m
        for a, b in zip(chunks(left), chunks(right), strict=True)
        for m in (channel("left", a), channel("right", b))  # type: ignore[arg-type]
    ]
    sessions: dict[str, tuple[Message, list[bytes | Message], bool]] = {
        "plain": (config(), chunks(short), True),
        "partials, utterances, forced end": (
            config(enable_partials=True, max_delay=0.7,
                   conversation_config={"end_of_utterance_silence_trigger": 0.3}),
            [*chunks(longer)[:4], {"message": "ForceEndOfUtterance"}, *chunks(longer)[4:]],
            True,
        ),
        "speakers": (
            config(diarization="speaker", speaker_diarization_config={"get_speakers": True}),
            [*chunks(longer)[:5], {"message": "GetSpeakers"}, *chunks(longer)[5:]],
            True,
        ),
        "every option warned": (every_warning, chunks(wav8k("cards-001")), True),
        "post-processing": (options, [*chunks(longer)[:3], mid, *chunks(longer)[3:]], True),
        "channels": (
            config(diarization="channel", channel_diarization_labels=["left", "right"],
                   enable_partials=True),
            [*multichannel, {"message": "EndOfChannel", "channel": "left", "last_seq_no": 8},
             channel("left", left[:3200]),
             {"message": "EndOfChannel", "channel": "right", "last_seq_no": 8}],
            False,
        ),
        "invalid_config": (config(max_delay=9), [], False),
        "invalid_config, regex": (
            config(transcript_filtering_config={"replacements": [{"from": "/(/", "to": ""}]}),
            [], False,
        ),
        "invalid_language": (config(language="xx"), [], False),
        "invalid_audio_type": ({**config(), "audio_format": {"type": "file"}},
                               [b"definitely not audio"], False),
        "invalid_message": (config(), [{"message": "Nonsense"}], False),
        "protocol_error": (config(), [{"message": "StartRecognition", **config()}], False),
    }  # fmt: skip
    seen: Counter[str] = Counter()
    kinds: set[str] = set()
    for name, (start, frames, end) in sessions.items():
        messages = await session(server_url, start, frames, end=end)
        assert messages, name
        for message in messages:
            assert not problems(message), (name, message, problems(message))
            seen[message["message"]] += 1
            if message["message"] in ("Warning", "Error", "Info"):
                kinds.add(f"{message['message']}:{message['type']}")
        last = messages[-1]["message"]
        assert last == ("Error" if name.startswith(("invalid", "protocol")) else "EndOfTranscript")

    unsendable = {"AddPartialTranslation", "AddTranslation", "AudioEventStarted", "AudioEventEnded"}
    assert set(seen) == set(SERVER_MESSAGES) - unsendable  # every other type was exercised
    assert {
        "Warning:validation_warning", "Warning:speaker_id", "Warning:unsupported_translation_pair",
        "Warning:empty_translation_target_list", "Warning:add_audio_after_eos",
        "Error:invalid_config", "Error:invalid_language", "Error:invalid_audio_type",
        "Error:invalid_message", "Error:protocol_error",
        "Info:recognition_quality", "Info:concurrent_session_usage",
    } <= kinds  # fmt: skip


def test_the_validator_can_fail() -> None:
    good = {"message": "Warning", "type": "speaker_id", "reason": "x"}
    assert problems(good) == []
    assert problems({"message": "Warning", "type": "no_such_type", "reason": "x"})
    assert problems({"message": "AddTranscript", "metadata": {"start_time": 0}, "results": []})
    empty = {"label": "S1", "speaker_identifiers": []}
    assert problems({"message": "SpeakersResult", "speakers": [empty]})
    assert problems({"message": "Translation"})


async def test_the_official_client_takes_the_warnings_and_the_options(server_url: str) -> None:
    from speechmatics.rt import AsyncClient, TranscriptionConfig, TranslationConfig

    from .test_rt_client import Collector

    config = TranscriptionConfig(
        max_delay=2.0, domain="finance", enable_entities=True, language_hints=["en"],
        punctuation_overrides={"permitted_marks": [","]},
        transcript_filtering_config={"replacements": [{"from": "/^(?:mister|mr)$/i", "to": "Mr"}]},
    )  # fmt: skip
    async with AsyncClient(url=server_url) as client:
        seen = Collector(client)
        with open(SAMPLES / "librivox-ss01-0870.wav", "rb") as audio:
            await client.transcribe(
                audio,
                transcription_config=config,
                translation_config=TranslationConfig(target_languages=["de"]),
            )
    assert seen.end.is_set() and not seen.by_type["Error"]
    reasons = " ".join(w["reason"] for w in seen.by_type["Warning"])
    for option in ("domain", "enable_entities", "language_hints", "translation"):
        assert option in reasons
    assert seen.finals() and not re.search(r"[.?!]", seen.finals())


def test_the_legacy_cli_takes_the_warnings_and_the_options(
    server_url: str,
    tmp_path: Path,
    legacy_cli: str,  # noqa: F811 (the fixture imported above)
) -> None:
    proc = run_cli(
        legacy_cli, server_url, tmp_path,
        "--replacement-words", "/e/:E", "--domain", "finance", "--enable-entities",
        "--punctuation-permitted-marks", ",",
        str(SAMPLES / "librivox-ss01-0930.wav"),
    )  # fmt: skip
    # (With --translation-langs it would print translations only: none arrive, as warned.)
    assert "domain" in proc.stderr and "enable_entities" in proc.stderr  # logged warnings
    assert "E" in proc.stdout and "e" not in proc.stdout  # the regex rule, on every word
    assert proc.stdout.strip() and not re.search(r"[.?!]", proc.stdout)
