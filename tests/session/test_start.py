"""``start`` and its Transcription handle (smnb.session.start) against the real local server."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

import smnb
from smnb.exceptions import SessionCancelled
from smnb.session.run import prepare
from tests.support.client import (
    tone_server,
    tone_wav,
    words_of,
)


@pytest.fixture
def tones(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "tones.wav")


@pytest.fixture(autouse=True)
def no_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key must never send these tests to the SaaS.
    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)
    monkeypatch.delenv("SPEECHMATICS_RT_URL", raising=False)


def lower(words: list[str]) -> list[str]:
    return [w.lower() for w in words]


async def test_start_returns_at_once_and_the_result_is_live(tones: Path) -> None:
    async with tone_server() as url:
        handle = smnb.start(tones, url=url, pace="realtime")
        assert not handle.done() and len(handle.recorder) == 0  # nothing ran yet
        first_final = asyncio.Event()
        handle.recorder.subscribe(lambda r: r.type == "AddTranscript" and first_final.set())
        await asyncio.wait_for(first_final.wait(), 30)
        live_words = lower(words_of(handle.result))  # tables readable mid-run
        assert not handle.done() and "running" in repr(handle)
        handle.stop()  # graceful: EndOfStream, then every final
        result = await asyncio.wait_for(handle, 30)
    assert live_words == ["alpha"]
    assert result is handle.result and result.completed and handle.exception() is None
    assert not smnb.session.start._RUNNING  # the strong reference to the task is gone
    assert result.audio_seconds is not None and result.audio_seconds < 2.0  # ended early
    assert "completed" in repr(handle)


async def test_cancel_raises_session_cancelled_with_the_partial_result(tones: Path) -> None:
    async with tone_server() as url:
        handle = smnb.start(tones, url=url, pace="realtime")
        some_audio = asyncio.Event()
        handle.recorder.subscribe(lambda r: r.type == "AudioAdded" and some_audio.set())
        await asyncio.wait_for(some_audio.wait(), 30)
        handle.cancel()
        with pytest.raises(SessionCancelled) as info:
            await asyncio.wait_for(handle, 30)
    result = info.value.result
    assert result is handle.result and handle.done()
    assert isinstance(handle.exception(), SessionCancelled)
    assert [r.type for r in result.recorder.records[-2:]] == ["Closed", "ClientError"]
    assert result.recorder.records[-1].payload["error"] == "SessionCancelled"
    assert result.state == "failed"


async def test_cancelling_an_awaiting_task_is_session_cancelled_not_lost(tones: Path) -> None:
    async with tone_server() as url:
        session = prepare(tones, url=url, pace="realtime")  # what atranscribe awaits
        streaming = asyncio.Event()
        session.recorder.subscribe(lambda r: r.type == "AudioAdded" and streaming.set())
        task = asyncio.ensure_future(session.run())
        await asyncio.wait_for(streaming.wait(), 30)
        task.cancel()  # a notebook interrupt cancels the cell's task like this
        with pytest.raises(SessionCancelled) as info:
            await task
    assert info.value.result is session.result
    assert any(r.type == "AudioAdded" for r in info.value.result.recorder.records)
    assert task.cancelling() == 0  # the cancellation was consumed, not left pending


async def test_start_without_a_loop_runs_on_a_thread_and_stops_from_anywhere(
    tones: Path,
) -> None:
    async with tone_server() as url:

        def script() -> Any:
            handle = smnb.start(tones, url=url, pace="realtime")
            got_final = threading.Event()
            handle.recorder.subscribe(lambda r: r.type == "AddTranscript" and got_final.set())
            got_final.wait(30)
            threading.Thread(target=handle.stop).start()  # e.g. a widget callback thread
            return handle.wait(30)

        result = await asyncio.to_thread(script)
    assert result.completed and 0 < len(words_of(result)) < 4
