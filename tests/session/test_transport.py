"""The transport (smnb.session.transport.SessionRunner) against the real local server."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

import smnb
from smnb.audio import PcmSource, decode_file, open_source
from smnb.exceptions import (
    AudioError,
    AuthError,
    ConnectionLost,
    ServerError,
)
from smnb.protocol import messages as m
from smnb.recorder import META, RECEIVED, SENT, Record, Recorder, read_jsonl
from smnb.recorder.jsonl import to_line
from smnb.session.transport import SessionRunner
from tests.support.client import (
    WORDS,
    FailingEngine,
    process_server,
    tone_server,
    tone_wav,
    words_of,
)
from tests.support.transport import kinds, runner


@pytest.fixture
def tones(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "tones.wav")


async def test_a_session_is_recorded_in_order_from_start_to_close(tones: Path) -> None:
    recorder = Recorder()
    async with tone_server() as url:
        session = await runner(url, tones, recorder, pace="fast").run()
    records = recorder.records
    assert session.state.value == "done"
    assert kinds(recorder)[:2] == [(META, "Session"), (SENT, "StartRecognition")]
    assert kinds(recorder)[-2:] == [(RECEIVED, "EndOfTranscript"), (META, "Closed")]
    assert records[-1].payload == {"code": 1000, "reason": ""}
    assert [r.i for r in records] == list(range(len(records)))
    assert all(a.t <= b.t for a, b in itertools.pairwise(records))
    first_audio = next(i for i, r in enumerate(records) if r.type == "AddAudio")
    started = next(i for i, r in enumerate(records) if r.type == "RecognitionStarted")
    assert started < first_audio  # no audio before RecognitionStarted
    frames = [r for r in records if r.type == "AddAudio"]
    end = next(r for r in records if r.type == "EndOfStream")
    assert end.payload == {"message": "EndOfStream", "last_seq_no": len(frames)}
    assert [r.seq_no for r in frames] == list(range(1, len(frames) + 1))
    assert sum(r.nbytes or 0 for r in frames) == os.path.getsize(tones) - 44  # every sample
    note = records[0].payload or {}
    assert note["url"] == url and note["pace"] == "fast" and note["chunk_seconds"] == 0.1
    finals = [w for r in records if r.type == "AddTranscript" for w in r.payload["results"]]
    assert [w["alternatives"][0]["content"].lower() for w in finals if w["type"] == "word"] == WORDS


async def test_channel_diarization_sends_each_channel_and_ends_each(tmp_path: Path) -> None:
    path = tone_wav(tmp_path / "stereo.wav", channels=2)
    source = open_source(path, per_channel=True)
    start = m.start_recognition(
        {
            "language": "en",
            "diarization": "channel",
            "channel_diarization_labels": ["left", "right"],
        },
        source.audio_format,
    )
    recorder = Recorder()
    async with tone_server() as url:
        await SessionRunner(url, source, start, recorder, pace="fast").run()
    sent = [r for r in recorder.records if r.type == "AddChannelAudio"]
    assert {r.channel for r in sent} == {"left", "right"}
    assert [r.seq_no for r in sent if r.channel == "left"] == list(range(1, 29))
    ends = [r.payload for r in recorder.records if r.type == "EndOfChannel"]
    assert ends == [
        {"message": "EndOfChannel", "channel": "left", "last_seq_no": 28},
        {"message": "EndOfChannel", "channel": "right", "last_seq_no": 28},
    ]
    acks = [r for r in recorder.records if r.type == "ChannelAudioAdded"]
    assert len(acks) == 56
    channels = {r.payload.get("channel") for r in recorder.records if r.type == "AddTranscript"}
    assert channels == {"left", "right"}


async def test_stop_ends_the_audio_gracefully_and_waits_for_every_final(tones: Path) -> None:
    recorder = Recorder()
    async with tone_server() as url:
        run = runner(url, tones, recorder, pace="realtime")

        def stop_after_first_final(record: Record) -> None:
            if record.type == "AddTranscript" and not run.stop_requested:
                run.request_stop()

        recorder.subscribe(stop_after_first_final)
        session = await run.run()
    frames = [r for r in recorder.records if r.type == "AddAudio"]
    assert session.state.value == "done"
    assert 5 < len(frames) < 28  # ended early …
    end = next(r for r in recorder.records if r.type == "EndOfStream")
    assert end.seq_no == len(frames)  # … with the right last_seq_no …
    assert kinds(recorder)[-2] == (RECEIVED, "EndOfTranscript")  # … and a proper ending


async def test_server_error_mid_session_raises_with_everything_received(tones: Path) -> None:
    recorder = Recorder()
    async with tone_server(FailingEngine(after=12)) as url:
        with pytest.raises(ServerError) as info:
            await runner(url, tones, recorder, pace="fast", max_unacked=1).run()
    error = info.value
    assert error.type == "job_error" and "engine crashed" in error.reason
    assert error.result is recorder  # the transport's default; the API passes a Result
    tail = kinds(recorder)[-3:]
    assert tail == [(RECEIVED, "Error"), (META, "Closed"), (META, "ClientError")]
    assert recorder.records[-2].payload == {"code": 4013, "reason": "job_error"}
    assert recorder.records[-1].payload["error"] == "ServerError"
    acks = [r for r in recorder.records if r.type == "AudioAdded"]
    assert 0 < len(acks) < 28  # it failed mid-stream, after some audio
    assert any(r.type == "AddTranscript" for r in recorder.records)  # finals before the crash


async def test_handshake_failures_are_clear(tones: Path) -> None:
    async with tone_server(api_key="right-key") as url:
        with pytest.raises(AuthError, match=r"rejected the credentials \(HTTP 401\)"):
            await runner(url, tones, headers={"Authorization": "Bearer wrong-key"}).run()
        bad_path = url.replace("/v2", "/v3")
        with pytest.raises(ConnectionLost, match=r"refused the connection \(HTTP 404\)"):
            await runner(bad_path, tones, headers={"Authorization": "Bearer right-key"}).run()
    recorder = Recorder()
    with pytest.raises(ConnectionLost, match=r"cannot connect to ws://127\.0\.0\.1:9/v2") as info:
        await runner("ws://127.0.0.1:9/v2", tones, recorder).run()
    assert info.value.result is recorder
    assert kinds(recorder) == [(META, "Session"), (META, "ClientError")]


async def test_a_failing_source_fails_the_session_as_an_audio_error(tones: Path) -> None:
    class Broken(PcmSource):
        async def chunks(self) -> Any:
            async for chunk in super().chunks():
                if chunk.audio_start >= 1.0:
                    raise OSError("device unplugged")
                yield chunk

    recorder = Recorder()
    async with tone_server() as url:
        with pytest.raises(AudioError, match="the audio source failed: device unplugged"):
            await runner(url, tones, recorder, source=Broken(decode_file(tones))).run()
    assert kinds(recorder)[-2:] == [(META, "Closed"), (META, "ClientError")]


async def test_server_killed_mid_stream_loses_nothing(tones: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with process_server() as (url, proc):
        handle = smnb.start(tones, url=url, pace="realtime", out=out)
        killed = asyncio.Event()

        def kill_at_first_final(record: Record) -> None:
            if record.type == "AddTranscript" and not killed.is_set():
                os.kill(proc.pid, signal.SIGKILL)
                killed.set()

        handle.recorder.subscribe(kill_at_first_final)
        with pytest.raises(ConnectionLost, match="while streaming audio") as info:
            await asyncio.wait_for(handle, 60)
    result = info.value.result
    assert isinstance(result, smnb.Result)
    assert [w.lower() for w in words_of(result)] == ["alpha"]
    received = [r for r in result.recorder.records if r.direction == RECEIVED]
    assert len(received) > 5
    on_disk = read_jsonl(out / "messages.jsonl").records
    assert [to_line(r) for r in on_disk] == [to_line(r) for r in result.recorder.records]
    assert on_disk[-1].type == "ClientError" and on_disk[-2].type == "Closed"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["state"] == "failed" and summary["error"]["type"] == "ConnectionLost"
    assert (out / "words.csv").read_text().count("\n") == 3  # header, "Alpha", "."


async def test_the_outcome_is_recorded_once_by_the_runner(tones: Path) -> None:
    recorder = Recorder()
    async with tone_server(FailingEngine(after=3)) as url:
        run = runner(url, tones, recorder, pace="fast")
        with pytest.raises(ServerError) as info:
            await run.run()
    assert run.outcome is info.value
    outcomes = [r for r in recorder.records if r.type == "ClientError"]
    assert [r.payload for r in outcomes] == [{"error": "ServerError", "message": str(info.value)}]
