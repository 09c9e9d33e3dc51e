"""The browser microphone's kernel side, with comm messages simulated from other threads."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np

from smnb.audio.sources import AudioSource, Chunk
from smnb.widgets.browser_mic import NO_AUDIO_MESSAGE, BrowserMic, BrowserMicSource


def pcm(n: int, value: int) -> bytes:
    return np.full(n, value, dtype=np.int16).tobytes()


def from_thread(mic: BrowserMic, messages: list[tuple[dict[str, Any], bytes | None]]) -> None:
    """Deliver front-end messages on a 'subshell' thread, as JupyterLab >= 4.4 does."""

    def run() -> None:
        for content, data in messages:
            mic._on_custom(mic, content, [memoryview(data)] if data is not None else [])

    th = threading.Thread(target=run, name="subshell-test")
    th.start()
    th.join()


async def collect(source: BrowserMicSource, timeout: float = 5.0) -> list[Chunk]:
    async def run() -> list[Chunk]:
        return [chunk async for chunk in source.chunks()]

    return await asyncio.wait_for(run(), timeout)


def test_widget_traits_and_front_end_code() -> None:
    mic = BrowserMic()
    assert mic.sample_rate == 16_000 and mic.chunk_ms == 100
    assert "AudioWorkletProcessor" in mic._esm and "export default" in mic._esm
    assert ".smnb-mic" in mic._css
    source = mic.source()
    assert isinstance(source, AudioSource)
    assert source.live is True
    assert source.chunk_seconds == 0.1
    assert source.audio_format == {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


async def test_audio_from_another_thread_reaches_the_session_loop() -> None:
    mic = BrowserMic()
    source = mic.source()
    task = asyncio.create_task(collect(source))
    await asyncio.sleep(0.01)  # chunks() is now waiting on the loop
    from_thread(
        mic,
        [({"type": "rendered"}, None), ({"type": "started", "native_rate": 44100}, None)]
        + [({"type": "audio", "seq": k, "rate": 16000}, pcm(1600, k)) for k in range(5)]
        + [({"type": "stopped", "seq": 5}, None)],
    )
    chunks = await task
    assert [c.audio_start for c in chunks] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert chunks[-1].audio_end == 0.5
    assert [np.frombuffer(c.data, np.int16)[0] for c in chunks] == [0, 1, 2, 3, 4]
    assert all(c.captured_t is not None for c in chunks)
    assert mic.rendered and mic.native_rate == 44100 and not mic.recording
    assert mic.chunks_received == 5 and mic.seconds_received == 0.5 and mic.gaps == 0


async def test_audio_before_the_session_starts_is_kept_and_gaps_counted() -> None:
    mic = BrowserMic()
    source = mic.source()
    from_thread(
        mic,
        [
            ({"type": "audio", "seq": 0}, pcm(1600, 1)),
            ({"type": "audio", "seq": 2}, pcm(800, 2)),  # seq 1 lost somewhere
            ({"type": "stopped", "seq": 3}, None),
        ],
    )
    chunks = await collect(source)
    assert [len(c.data) for c in chunks] == [3200, 1600]
    assert chunks[1].audio_end == 0.15
    assert mic.gaps == 1


async def test_stop_from_python_flushes_then_ends() -> None:
    mic = BrowserMic()
    sent: list[Any] = []
    mic.send = sent.append  # type: ignore[method-assign]
    source = mic.source(stop_grace=5.0)
    task = asyncio.create_task(collect(source))
    await asyncio.sleep(0.01)
    from_thread(mic, [({"type": "started"}, None), ({"type": "audio", "seq": 0}, pcm(1600, 7))])
    # stop() from a button thread: the front end is asked to flush ...
    threading.Thread(target=source.stop).start()
    await asyncio.sleep(0.05)
    assert sent == [{"cmd": "stop"}]
    assert not task.done()
    # ... and its last samples, then "stopped", still make it into the stream.
    from_thread(mic, [({"type": "audio", "seq": 1}, pcm(400, 8)), ({"type": "stopped"}, None)])
    chunks = await task
    assert [len(c.data) for c in chunks] == [3200, 800]


async def test_stop_without_a_front_end_ends_at_once() -> None:
    source = BrowserMic().source()
    task = asyncio.create_task(collect(source, timeout=2.0))
    await asyncio.sleep(0.01)
    source.stop()
    assert await task == []


async def test_stop_before_streaming_ends_at_once() -> None:
    source = BrowserMic().source()
    source.stop()
    assert await collect(source, timeout=2.0) == []


async def test_stop_grace_when_the_front_end_never_answers() -> None:
    mic = BrowserMic()
    source = mic.source(stop_grace=0.1)
    task = asyncio.create_task(collect(source))
    await asyncio.sleep(0.01)
    from_thread(mic, [({"type": "started"}, None)])
    source.stop()
    assert await asyncio.wait_for(task, 2.0) == []


async def test_no_audio_timeout_explains() -> None:
    mic = BrowserMic()
    source = mic.source(no_audio_timeout=0.05)
    assert await collect(source, timeout=2.0) == []
    assert mic.message == NO_AUDIO_MESSAGE


async def test_wait_for_audio() -> None:
    mic = BrowserMic()
    assert await mic.wait_for_audio(timeout=0.15) is False
    assert "headless run" in mic.message
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, from_thread, mic, [({"type": "audio", "seq": 0}, pcm(1600, 0))])
    assert await mic.wait_for_audio(timeout=2.0) is True


async def test_front_end_error_ends_the_stream() -> None:
    mic = BrowserMic()
    source = mic.source()
    task = asyncio.create_task(collect(source))
    await asyncio.sleep(0.01)
    from_thread(mic, [({"type": "error", "message": "NotAllowedError: denied"}, None)])
    assert await task == []
    assert mic.error == "NotAllowedError: denied"
    assert await mic.wait_for_audio(timeout=0.01) is False
    assert "denied" in mic.message


def test_audio_without_a_source_is_dropped_not_queued() -> None:
    mic = BrowserMic()
    from_thread(mic, [({"type": "audio", "seq": 0}, pcm(160, 0))])
    assert mic.dropped == 1 and mic.chunks_received == 1


async def test_a_new_source_takes_over_and_ends_the_old_one() -> None:
    """Re-running the cell with the same widget: the old session ends, the new one gets audio."""
    mic = BrowserMic()
    old = mic.source()
    old_task = asyncio.create_task(collect(old))
    await asyncio.sleep(0.01)
    new = mic.source()
    assert await asyncio.wait_for(old_task, 2.0) == []  # ended, not left waiting forever
    new_task = asyncio.create_task(collect(new))
    await asyncio.sleep(0.01)
    from_thread(mic, [({"type": "audio", "seq": 0}, pcm(1600, 3)), ({"type": "stopped"}, None)])
    assert len(await new_task) == 1


async def test_start_is_disabled_once_the_session_has_ended() -> None:
    mic = BrowserMic()
    source = mic.source()
    assert not mic.ended and "idle" in mic.status_text()
    task = asyncio.create_task(collect(source))
    await asyncio.sleep(0.01)
    from_thread(mic, [({"type": "started", "native_rate": 48000}, None)])
    from_thread(mic, [({"type": "audio", "seq": 0}, b"\0\0" * 1600)])
    from_thread(mic, [({"type": "stopped", "seq": 1}, None)])
    assert len(await asyncio.wait_for(task, 2.0)) == 1
    # The synced trait the front end disables ▶ Start with (saved with the widget state).
    assert mic.ended and "ended" in mic.message
    assert "session ended" in mic.status_text()
    # Feeding a new session with the same widget enables it again.
    mic.source()
    assert not mic.ended


def test_static_renderings_get_a_line_of_text_beside_the_widget() -> None:
    mic = BrowserMic()
    data = mic._repr_mimebundle_()
    data = data[0] if isinstance(data, tuple) else data
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == mic.model_id
    assert data["text/plain"].startswith("Browser microphone · idle")
    assert "needs a running kernel" in data["text/html"]


def test_the_front_end_disables_start_from_the_synced_state() -> None:
    # The JS reads `ended` when it renders (a saved notebook restores it) and on change.
    js = BrowserMic()._esm
    assert 'const ended = !on && model.get("ended");' in js
    assert "button.disabled = ended;" in js
    assert 'model.on("change:ended", showEnded);' in js


def test_each_microphone_has_its_own_key_for_the_front_end() -> None:
    # The JS keys a running capture by this synced key, so a view re-rendered mid-recording
    # (its output rewritten by refresh()) finds its capture instead of offering ▶ Start.
    first, second = BrowserMic(), BrowserMic()
    assert len(first.key) == 32 and first.key != second.key
    assert 'const keyOf = (model) => model.get("key");' in first._esm
    assert "captures.get(key).model = model" in first._esm
