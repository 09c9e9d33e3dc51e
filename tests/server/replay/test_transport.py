"""Replays on a real loopback socket, measured by smnb's own client.

The recordings are real: one made here with ``smnb transcribe --out`` against the
local server with its real recognizer, and ``chat1.jsonl``, a session Speechmatics
recorded against its SaaS. Latency is measured by the client exactly as for a live
session, so these tests show that a replay reproduces the recording's timing.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

import smnb
from smnb.exceptions import ConfigError, ServerError
from smnb.metrics.stats import quantile
from smnb.result import Result
from smnb.server import serve
from smnb.server.replay import MISMATCH

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "smnb" / "samples"
CHAT1 = SAMPLES / "chat1.jsonl"
CHAT1_AUDIO = SAMPLES / "audio_01_16kHz.wav"
CHAT1_CONFIG: dict[str, Any] = {
    "operating_point": "enhanced",
    "max_delay": 0.7,
    "diarization": "speaker",
    "speaker_diarization_config": {"speaker_sensitivity": 0.5, "prefer_current_speaker": False},
    "conversation_config": {"end_of_utterance_silence_trigger": 0.2},
}
"""chat1's transcription_config, as smnb keywords (language and partials are smnb's defaults)."""


def final_words(result: Result) -> list[tuple[str, float, float]]:
    words = result.words
    return list(zip(words["content"], words["start_time"], words["end_time"], strict=True))


def latency_p50(result: Result) -> float:
    words = result.words
    return quantile(words.loc[words["type"] == "word", "latency_s"], 0.5)


def mismatches(result: Result) -> list[str]:
    events = result.events
    chosen = (events["message"] == "Warning") & (events["type"] == MISMATCH)
    return list(events.loc[chosen, "reason"])


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "smnb", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.slow
async def test_a_session_recorded_with_smnb_transcribe_replays_with_its_words_and_latency(
    tmp_path: Path,
) -> None:
    sample = SAMPLES / "librivox-ss01-0870.wav"
    out = tmp_path / "recorded"
    record = subprocess.run(
        [sys.executable, "-m", "smnb", "transcribe", str(sample), "--max-delay", "1",
         "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert record.returncode == 0, record.stderr
    recorded = smnb.load(out)
    assert isinstance(recorded, Result) and len(recorded.words) > 5

    server = start_cli("serve", "--port", "0", "--replay", str(out), "--replay-audio", str(sample))
    try:
        assert server.stdout is not None
        url = (await asyncio.wait_for(asyncio.to_thread(server.stdout.readline), 60)).strip()
        assert url.startswith("ws://127.0.0.1:"), url
        again = await smnb.atranscribe(sample, url=url, max_delay=1)
    finally:
        server.terminate()
        stderr = await asyncio.to_thread(lambda: server.communicate(timeout=30)[1])
    assert server.returncode == 0 and "Traceback" not in stderr, stderr

    assert final_words(again) == final_words(recorded)
    assert abs(latency_p50(again) - latency_p50(recorded)) <= 0.1, (
        latency_p50(again), latency_p50(recorded),
    )  # fmt: skip
    assert mismatches(again) == []  # same audio, same config: nothing to warn about
    assert again.session_id == recorded.session_id  # the recorded RecognitionStarted


@pytest.mark.slow
async def test_chat1_replayed_against_its_audio_gives_its_words_and_its_latency() -> None:
    recorded = smnb.load(CHAT1)
    assert isinstance(recorded, Result)
    async with serve(replay=CHAT1) as url:
        again = await smnb.atranscribe(CHAT1_AUDIO, url=url, **CHAT1_CONFIG)
    assert final_words(again) == final_words(recorded)
    assert again.text == recorded.text
    assert latency_p50(recorded) == pytest.approx(0.78)  # what the README of the recording says
    assert abs(latency_p50(again) - latency_p50(recorded)) <= 0.1, latency_p50(again)
    # Word by word, too: each final arrived when the recording says, give or take the loop.
    shift = again.words["latency_s"].to_numpy() - recorded.words["latency_s"].to_numpy()
    assert quantile(abs(shift), 0.9) < 0.05, sorted(shift)
    assert mismatches(again) == []


async def test_other_audio_gets_a_warning_and_still_the_recordings_transcript() -> None:
    other = SAMPLES / "librivox-ss01-0870.wav"
    async with serve(replay=CHAT1) as url:
        again = await smnb.atranscribe(other, url=url, pace="fast", **CHAT1_CONFIG)
    differs, length = mismatches(again)
    assert differs.startswith("replay of chat1.jsonl: the audio differs from the recording's from ")
    assert differs.endswith(" s on; the transcripts replayed are of the recording's audio "
                            "(audio_01_16kHz.wav)")  # fmt: skip
    seconds = f"{again.audio['audio_end'].max():.2f}"
    assert length.startswith(
        f"replay of chat1.jsonl: {seconds} s of audio received, the recording's audio is 27.91 s "
        "(sha256 "
    ), length
    recorded = smnb.load(CHAT1)
    assert isinstance(recorded, Result)
    assert final_words(again) == final_words(recorded)  # EndOfStream released the rest


async def test_another_config_gets_a_warning_naming_the_difference() -> None:
    async with serve(replay=CHAT1) as url:
        again = await smnb.atranscribe(
            CHAT1_AUDIO, url=url, pace="fast", **{**CHAT1_CONFIG, "max_delay": 2.0}
        )
    assert mismatches(again) == [
        "replay of chat1.jsonl: transcription_config differs from the recording's: "
        "max_delay 2.0 (recorded 0.7)"
    ]


async def test_another_audio_format_gets_an_error() -> None:
    async with serve(replay=CHAT1) as url:
        with pytest.raises(ServerError) as caught:
            await smnb.atranscribe(CHAT1_AUDIO, url=url, audio_format="file", **CHAT1_CONFIG)
    assert caught.value.type == "invalid_audio_type"
    assert caught.value.reason == (
        "replay of chat1.jsonl: this recording's audio was raw pcm_s16le at 16000 Hz; "
        "StartRecognition asks for file"
    )


async def test_clients_replay_side_by_side_without_touching_each_other() -> None:
    async with serve(replay=CHAT1) as url:
        results = await asyncio.gather(
            *(smnb.atranscribe(CHAT1_AUDIO, url=url, pace="fast", **CHAT1_CONFIG) for _ in range(3))
        )
    texts = {r.text for r in results}
    assert len(texts) == 1 and all(r.completed for r in results)
    assert [r.audio["acked_s"].notna().all() for r in results] == [True] * 3  # live acks


async def test_a_raw_client_sees_the_protocol_it_expects() -> None:
    async with serve(replay=CHAT1) as url, connect(url) as ws:
        start = {"message": "StartRecognition", "audio_format": {"type": "raw",
                 "encoding": "pcm_s16le", "sample_rate": 16000},
                 "transcription_config": {"language": "en"}}  # fmt: skip
        await ws.send(json.dumps(start))
        first = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(3)]
        assert [m["message"] for m in first] == ["Info", "RecognitionStarted", "Warning"]
        assert first[1]["id"] == "9d8a5d05-7a62-4266-8cfc-9ffd9cb3cdf1"  # the recorded session's
        await ws.send(b"\0" * 3200)  # silence: chat1's audio is not silent at the start
        assert json.loads(await ws.recv()) == {"message": "AudioAdded", "seq_no": 1}
        differs = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert differs["type"] == MISMATCH and "from 0.00 s on" in differs["reason"]
        await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": 1}))
        rest = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(146)]
        assert rest[0]["type"] == MISMATCH and "0.10 s of audio received" in rest[0]["reason"]
        assert [m["message"] for m in rest[1:-1]].count("AddTranscript") == 61
        assert rest[-1] == {"message": "EndOfTranscript"}


async def test_the_official_client_replays_chat1_unchanged() -> None:
    from speechmatics.rt import AsyncClient, AudioEncoding, AudioFormat, TranscriptionConfig

    finals: list[str] = []
    order: list[str] = []
    with wave.open(str(CHAT1_AUDIO)) as wav:
        pcm = io.BytesIO(wav.readframes(wav.getnframes()))
    async with serve(replay=CHAT1) as url, AsyncClient(url=url) as client:
        client.on("AddTranscript", lambda m: finals.append(m["metadata"]["transcript"]))
        for kind in ("RecognitionStarted", "Warning", "EndOfTranscript"):
            client.on(kind, lambda m: order.append(m["message"]))
        await client.transcribe(
            pcm,
            transcription_config=TranscriptionConfig(language="en", max_delay=0.7),
            audio_format=AudioFormat(AudioEncoding.PCM_S16LE, sample_rate=16000, chunk_size=3200),
        )
    recorded = [
        json.loads(line)["payload"]["metadata"]["transcript"]
        for line in CHAT1.read_text().splitlines()
        if '"message": "AddTranscript"' in line
    ]
    assert finals == recorded
    assert order[0] == "RecognitionStarted" and order[-1] == "EndOfTranscript"
    assert order.count("Warning") == 1  # its config is not chat1's; its audio is


async def test_a_recording_that_cannot_be_replayed_fails_before_listening(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such recording"):
        async with serve(replay=tmp_path / "missing.jsonl"):
            pass
    bad = subprocess.run(
        [sys.executable, "-m", "smnb", "serve", "--port", "0", "--replay", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip() == f"smnb serve: replay: {tmp_path} holds no messages.jsonl"
