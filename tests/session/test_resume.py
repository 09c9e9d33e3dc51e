"""Reconnecting (smnb.session.resume and the transport): through a loopback proxy that
resets the TCP connection mid-stream, during the handshakes and after EndOfStream.

The upstream is the real local server hosting tone recognizers, so every word and its
time is exact: a session that reconnected must give the same words, on the same audio
clock, as one that never dropped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import smnb
from smnb.audio import Chunk, decode_file
from smnb.clock import monotonic
from smnb.exceptions import ConfigError, ConnectionLost, ServerError
from smnb.recorder import META, RECONNECT, read_jsonl
from smnb.session.options import ReconnectPolicy, reconnect_policy
from smnb.session.resume import AudioQueue, final_end
from tests.support.client import FailingEngine, tone_server, tone_wav, words_of
from tests.support.proxy import Cut, ResettingProxy

NAMES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
SCRIPT = tuple(x for name in NAMES for x in (name, 0.4))
"""5.6 s of tone speech: eight words, each followed by 0.4 s of silence."""
QUICK = ReconnectPolicy(attempts=3, backoff=0.05)


@pytest.fixture
def tones(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "eight.wav", SCRIPT)


def timed_words(result: Any) -> list[tuple[str, float, float]]:
    df = result.words
    df = df[df["type"] == "word"]
    return list(zip(df["content"].str.lower(), df["start_time"], df["end_time"], strict=True))


def assert_same_words(reconnected: Any, direct: Any) -> None:
    """The same words in the same order at the same audio times (30 ms tone frames)."""
    got, want = timed_words(reconnected), timed_words(direct)
    assert [w for w, _, _ in got] == [w for w, _, _ in want] == NAMES
    for (_, s1, e1), (_, s2, e2) in zip(got, want, strict=True):
        assert abs(s1 - s2) <= 0.031 and abs(e1 - e2) <= 0.031


async def session(url: str, path: Path, **kwargs: Any) -> smnb.Result:
    kwargs.setdefault("pace", "fast")
    kwargs.setdefault("max_unacked", 4)  # the client cannot run far ahead of the server
    return await smnb.atranscribe(path, url=url, **kwargs)


def notes(result: Any, kind: str) -> list[dict[str, Any]]:
    return [r.payload for r in result.recorder.records if r.direction == META and r.type == kind]


# --- through the proxy ----------------------------------------------------------------


async def test_a_reset_mid_stream_resumes_on_one_audio_clock(tones: Path, tmp_path: Path) -> None:
    async with tone_server() as upstream:
        direct = await session(upstream, tones)
        proxy = ResettingProxy(upstream, {0: Cut("frames", count=25)})
        async with proxy.running() as url:
            result = await session(url, tones, out=tmp_path / "out")
    assert result.completed and result.error is None
    assert [p.reset for p in proxy.passages] == [True, False]
    assert_same_words(result, direct)
    (note,) = result.reconnections
    assert note["old_session_id"] != note["new_session_id"]
    assert note["old_session_id"] == result.session_id  # the session keeps its first id
    assert 0 < note["audio_offset"] < 2.5 and note["resent_frames"] > 0
    assert note["code"] == 1006 and "while streaming audio" in note["reason"]
    assert 0 <= note["gap_s"] < 1 and note["attempts"] == 1
    # The pieces and the gap: one row per connection, the second continuing the audio.
    c = result.connections
    assert c["connection"].tolist() == [0, 1]
    assert c["close_code"].tolist() == [1006, 1000]
    assert c["audio_offset"].tolist() == [0.0, note["audio_offset"]]
    assert c["audio_start"].iloc[1] == note["audio_offset"] and c["audio_end"].iloc[1] == 5.6
    assert c["resent_frames"].iloc[1] == note["resent_frames"]
    # Re-sent frames are the ones no final covered; every sample went out at least once.
    audio = result.audio
    resent = audio[audio["resent"]]
    assert len(resent) == note["resent_frames"] and set(resent["connection"]) == {1}
    assert resent["audio_start"].min() == note["audio_offset"]
    first = audio[audio["connection"] == 0]
    assert first["acked_s"].notna().any()  # acks matched per connection
    assert sorted(set(audio["audio_start"].round(6))) == [round(k * 0.1, 6) for k in range(56)]
    # The server's own times stay in the log as sent; the tables move them.
    after = note["i"]
    raw_ends = [
        r.payload["metadata"]["end_time"]
        for r in result.recorder.records
        if r.type == "AddTranscript" and r.i > after
    ]
    assert min(raw_ends) < note["audio_offset"]  # the new server counted from 0 again
    # The log on disk has the note, and rebuilds the same tables.
    on_disk = read_jsonl(tmp_path / "out" / "messages.jsonl")
    assert [r.type for r in on_disk.records if r.type == RECONNECT] == [RECONNECT]
    loaded = smnb.load(tmp_path / "out")
    assert isinstance(loaded, smnb.Result)
    pd.testing.assert_frame_equal(loaded.words, result.words)
    pd.testing.assert_frame_equal(loaded.connections, result.connections)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["reconnections"][0]["audio_offset"] == note["audio_offset"]
    assert (tmp_path / "out" / "connections.csv").read_text().count("\n") == 3
    assert "reconnected 1×" in repr(result)


async def test_a_reset_before_recognition_started_starts_over(tones: Path) -> None:
    async with tone_server() as upstream:
        direct = await session(upstream, tones)
        proxy = ResettingProxy(upstream, {0: Cut("start")})
        async with proxy.running() as url:
            result = await session(url, tones)
    assert result.completed
    assert_same_words(result, direct)
    (note,) = result.reconnections
    assert note["old_session_id"] is None and note["audio_offset"] == 0.0
    assert note["resent_frames"] == 0 and "before RecognitionStarted" in note["reason"]
    assert result.connections["frames"].tolist() == [0, 56]


async def test_a_reset_during_the_reconnection_handshake_is_retried(tones: Path) -> None:
    async with tone_server() as upstream:
        direct = await session(upstream, tones)
        proxy = ResettingProxy(upstream, {0: Cut("frames", count=20), 1: Cut("handshake")})
        async with proxy.running() as url:
            result = await session(url, tones, reconnect=3)
    assert result.completed
    assert [p.reset for p in proxy.passages] == [True, True, False]
    assert_same_words(result, direct)
    (note,) = result.reconnections
    assert note["attempts"] == 2  # the reset handshake, then the one that worked
    assert note["gap_s"] >= 0.5  # the backoff before the second attempt
    assert result.connections["attempts"].tolist() == [1, 2]


async def test_a_reset_after_end_of_stream_still_gets_every_final(tones: Path) -> None:
    async with tone_server() as upstream:
        direct = await session(upstream, tones)
        proxy = ResettingProxy(upstream, {0: Cut("eos")})
        async with proxy.running() as url:
            result = await session(url, tones, max_unacked=64)
    assert result.completed
    assert_same_words(result, direct)
    (note,) = result.reconnections
    assert "before EndOfTranscript" in note["reason"]
    ends = [r for r in result.recorder.records if r.type == "EndOfStream"]
    assert len(ends) == 2  # the audio owed went out again, then EndOfStream again
    assert proxy.passages[0].texts[-1].startswith('{"message":"EndOfStream"')


async def test_reconnect_false_ends_the_session_at_the_drop(tones: Path) -> None:
    async with tone_server() as upstream:
        proxy = ResettingProxy(upstream, {0: Cut("frames", count=20)})
        async with proxy.running() as url:
            with pytest.raises(ConnectionLost, match="while streaming audio") as info:
                await session(url, tones, reconnect=False)
    assert len(proxy.passages) == 1
    result = info.value.result
    assert notes(result, RECONNECT) == [] and result.reconnections == []
    assert result.recorder.records[0].payload["reconnect"] is False
    assert [r.type for r in result.recorder.records[-2:]] == ["Closed", "ClientError"]


async def test_a_server_error_is_never_retried(tones: Path) -> None:
    async with tone_server(FailingEngine(after=5)) as upstream:
        proxy = ResettingProxy(upstream, {})
        async with proxy.running() as url:
            with pytest.raises(ServerError, match="job_error"):
                await session(url, tones)
    assert len(proxy.passages) == 1  # no second connection after the server's Error


async def test_retries_are_bounded_and_the_error_says_what_happened(tones: Path) -> None:
    async with tone_server() as upstream:
        cuts = {0: Cut("frames", count=20), **{k: Cut("handshake") for k in range(1, 10)}}
        proxy = ResettingProxy(upstream, cuts)
        async with proxy.running() as url:
            with pytest.raises(ConnectionLost) as info:
                await session(url, tones, reconnect=3)
    assert len(proxy.passages) == 1 + 3
    message = str(info.value)
    assert "while streaming audio" in message and "failed (3 attempts)" in message
    assert url.split("/v2")[0] in message
    result = info.value.result
    assert [r.type for r in result.recorder.records[-2:]] == ["Closed", "ClientError"]
    assert words_of(result)[:2] == ["Alpha", "Bravo"]  # what arrived is kept


class LiveTones:
    """A live source: the file's chunks released in real time by a capture task."""

    live = True
    chunk_seconds = 0.1

    def __init__(self, path: Path) -> None:
        self.audio = decode_file(path)
        self.audio_format = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16_000}
        self.name = "live tones"
        self.captured: list[float] = []

    async def chunks(self) -> AsyncIterator[Chunk]:
        queue: asyncio.Queue[Chunk | None] = asyncio.Queue()  # unbounded: the device buffer
        pcm = self.audio.samples[:, 0].astype("<i2").tobytes()
        step = 3200
        origin = monotonic()

        async def capture() -> None:
            for k in range(len(pcm) // step):
                await asyncio.sleep(max(0.0, origin + (k + 1) * 0.1 - monotonic()))
                self.captured.append(monotonic())
                chunk = Chunk(pcm[k * step : (k + 1) * step], k * 0.1, (k + 1) * 0.1)
                await queue.put(
                    Chunk(chunk.data, chunk.audio_start, chunk.audio_end, captured_t=monotonic())
                )
            await queue.put(None)

        task = asyncio.create_task(capture())
        try:
            while (chunk := await queue.get()) is not None:
                yield chunk
        finally:
            task.cancel()

    def stop(self) -> None:
        pass


async def test_a_live_source_keeps_capturing_during_the_gap(tones: Path) -> None:
    source = LiveTones(tones)
    async with tone_server() as upstream:
        direct = await session(upstream, tones)
        proxy = ResettingProxy(upstream, {0: Cut("frames", count=15), 1: Cut("handshake")})
        async with proxy.running() as url:
            result = await session(url, source, reconnect=3)
    assert result.completed
    assert_same_words(result, direct)
    (note,) = result.reconnections
    audio = result.audio
    assert sorted(set(audio["audio_start"].round(6))) == [round(k * 0.1, 6) for k in range(56)]
    # Chunks captured while there was no connection went out right after it came back.
    gap_start = note["t"] - note["gap_s"]
    during = audio[(audio["scheduled_s"] > gap_start - t0_of(result)) & ~audio["resent"]]
    during = during[during["scheduled_s"] < note["t"] - t0_of(result)]
    assert len(during) >= 3  # ≥ 0.5 s of backoff at 10 chunks a second
    assert (during["connection"] == 1).all()
    assert (during["sent_s"] >= note["t"] - t0_of(result)).all()


def t0_of(result: Any) -> float:
    origin = smnb.tables.audio_origin(result.recorder)
    assert origin is not None
    return origin


# --- the pieces -------------------------------------------------------------------------


def test_reconnect_settings() -> None:
    assert list(ReconnectPolicy().delays()) == [0.0, 0.5, 1.0, 2.0, 4.0]
    assert list(ReconnectPolicy(attempts=7, max_backoff=3).delays()) == [0, 0.5, 1, 2, 3, 3, 3]
    assert reconnect_policy(True) == ReconnectPolicy() and reconnect_policy(False) is None
    assert reconnect_policy(2) == ReconnectPolicy(attempts=2)
    for bad in (0, -1, "yes", 1.5):
        with pytest.raises(ConfigError, match="reconnect must be"):
            reconnect_policy(bad)
    assert ReconnectPolicy.qualifies(1006) and ReconnectPolicy.qualifies(None)
    assert not ReconnectPolicy.qualifies(1000) and not ReconnectPolicy.qualifies(4013)
    with pytest.raises(ConfigError, match="reconnect must be"):
        smnb.SessionOptions.create(reconnect="sometimes")


def chunk(k: int, channel: str | None = None) -> Chunk:
    return Chunk(b"\0\0" * 1600, k * 0.1, (k + 1) * 0.1, channel=channel)


async def chunks_of(items: list[Chunk]) -> AsyncIterator[Chunk]:
    for item in items:
        yield item


async def test_the_audio_queue_keeps_what_no_final_covered() -> None:
    source = [chunk(k) for k in range(10)]
    audio = AudioQueue(chunks_of(source), prefetch=2)
    audio.start()
    sent = []
    for k in range(6):
        c = await audio.next()
        assert c is source[k]
        assert await audio.next() is c  # taken, not yet sent: still first in line
        audio.sent(c, connection=0, seq=k + 1)
        sent.append(c)
    audio.finalised(None, 0.25, acked={None: 6}, connection=0)  # covers chunks 0 and 1
    offset, resent = audio.rewind()
    assert (offset, resent) == (pytest.approx(0.2), 4)
    again = [await audio.next() for _ in range(1)]
    assert again == [source[2]]
    for k in range(2, 10):  # the re-queued chunks, then the rest of the source, in order
        c = await audio.next()
        assert c is source[k]
        audio.sent(c, connection=1, seq=k - 1)
    assert await audio.next() is None and await audio.next() is None
    await audio.aclose()


async def test_beyond_the_resend_limit_only_acknowledged_audio_is_let_go() -> None:
    source = [chunk(k) for k in range(30)]
    audio = AudioQueue(chunks_of(source), resend_limit=1.0)
    audio.start()
    for k in range(30):
        audio.sent(await audio.next() or source[k], connection=0, seq=k + 1)
    audio.finalised(None, 0.0, acked={None: 25}, connection=0)
    offset, resent = audio.rewind()
    assert offset == pytest.approx(2.0) and resent == 10  # 1 s kept, and ≥ the unacked 5
    await audio.aclose()


async def test_a_failing_source_fails_through_the_queue() -> None:
    async def broken() -> AsyncIterator[Chunk]:
        yield chunk(0)
        raise OSError("device unplugged")

    audio = AudioQueue(broken())
    audio.start()
    first = await audio.next()
    assert first is not None
    audio.sent(first, connection=0, seq=1)
    with pytest.raises(smnb.AudioError, match="device unplugged"):
        await audio.next()
    await audio.aclose()


def test_where_a_final_ends() -> None:
    assert final_end({"message": "AddTranscript", "metadata": {"end_time": 2.5}}) == 2.5
    results = [{"end_time": 1.0}, {"end_time": 1.75}, {"type": "x"}]
    assert final_end({"message": "AddTranscript", "results": results}) == 1.75
    assert final_end({"message": "AddTranscript", "results": []}) is None
