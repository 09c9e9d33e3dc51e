"""``smnb.live`` (smnb.session.live): wiring of the view to ``smnb.start``, session API faked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import smnb
import smnb.session.live
import smnb.widgets
from smnb.recorder import Recorder
from smnb.session.live import live
from smnb.session.options import KEYWORD_DEFAULTS
from smnb.widgets import BrowserMic, BrowserMicSource, LiveTranscript
from tests.support.display import fake_display


class FakeHandle:
    def __init__(self, source: Any, config: dict[str, Any]) -> None:
        self.source, self.config = source, config
        self.recorder = Recorder()
        self.result = type("Result", (), {"recorder": self.recorder})()
        self.stops = 0

    def stop(self) -> None:
        self.stops += 1

    def __await__(self) -> Any:
        async def done() -> Any:
            return self.result

        return done().__await__()


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[FakeHandle]:
    handles: list[FakeHandle] = []

    def start(source: Any, *, options: Any = None, **config: Any) -> FakeHandle:
        handles.append(FakeHandle(source, config))
        handles[-1].recorder.record_meta("Session", {"pace": "realtime"})
        return handles[-1]

    monkeypatch.setattr(smnb.session.live, "start", start)
    return handles


async def test_live_starts_a_session_and_follows_it(started: list[FakeHandle]) -> None:
    view = live("speech.wav", display=False, enable_partials=True, min_interval=0.0)
    assert isinstance(view, LiveTranscript)
    (handle,) = started
    assert handle.source == "speech.wav" and handle.config["enable_partials"] is True
    assert handle.config == {**KEYWORD_DEFAULTS, "enable_partials": True}  # every setting
    assert view.name == "speech.wav"
    assert view.result is handle.result
    assert view.state.phase == "connecting"  # the record made before attaching was replayed
    handle.recorder.record_received({"message": "RecognitionStarted"}, t=0.1)
    assert "waiting for audio" in view.status_text
    view.stop_button.click()
    await asyncio.sleep(0)
    assert handle.stops == 1
    assert await view is handle.result


async def test_live_with_the_browser_mic_shows_it_above_the_transcript(
    started: list[FakeHandle],
) -> None:
    mic = BrowserMic()
    view = live(mic, display=False)
    (handle,) = started
    assert isinstance(handle.source, BrowserMicSource) and handle.source.mic is mic
    assert view.widget.children[1] is mic
    assert view.name == "browser microphone"
    handle.recorder.record_received({"message": "RecognitionStarted"}, t=0.1)
    assert "click ▶ Start microphone above" in view.status_text


async def test_live_displays_once(
    started: list[FakeHandle], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = fake_display(monkeypatch)
    view = live("a.wav", title="A")
    # One output, a raw mime bundle: the view's widget (live front ends) and its snapshot.
    (output,) = shown
    assert output.kwargs == {"raw": True, "display_id": True}
    (bundle,) = output.objs
    assert bundle == view._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.widget.model_id
    assert view.title.value == "<b>A</b>"


def test_exports() -> None:
    # live_views is for users: notebook 02's last cell refreshes every view shown with it.
    expected = ["BrowserMic", "BrowserMicSource", "LiveTranscript", "live_views"]
    assert smnb.widgets.__all__ == expected
    assert smnb.live is live
