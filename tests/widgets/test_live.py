"""The live view without a front end: push records into a Recorder, read the widget values."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from smnb.clock import ManualClock
from smnb.recorder import Recorder
from smnb.widgets.live import LiveTranscript, find_recorder
from tests.support.display import FakeHandle, fake_display

# --- RT v2 server messages ----------------------------------------------------


def word(content: str, start: float, end: float, speaker: str | None = None) -> dict[str, Any]:
    alt: dict[str, Any] = {"content": content, "confidence": 0.9, "language": "en"}
    if speaker is not None:
        alt["speaker"] = speaker
    return {"type": "word", "start_time": start, "end_time": end, "alternatives": [alt]}


def punct(content: str, at: float, speaker: str | None = None) -> dict[str, Any]:
    item = word(content, at, at, speaker)
    item.update(type="punctuation", attaches_to="previous", is_eos=content in ".?!")
    return item


def transcript(
    kind: str, results: list[dict[str, Any]], channel: str | None = None
) -> dict[str, Any]:
    start = results[0]["start_time"] if results else 0.0
    end = results[-1]["end_time"] if results else 0.0
    msg: dict[str, Any] = {
        "message": kind,
        "format": "2.9",
        "metadata": {"start_time": start, "end_time": end, "transcript": ""},
        "results": results,
    }
    if channel is not None:
        msg["channel"] = channel
    return msg


def partial(results: list[dict[str, Any]], channel: str | None = None) -> dict[str, Any]:
    return transcript("AddPartialTranscript", results, channel)


def final(results: list[dict[str, Any]], channel: str | None = None) -> dict[str, Any]:
    return transcript("AddTranscript", results, channel)


def started(rec: Recorder) -> None:
    rec.record_meta("Session", {"url": "ws://127.0.0.1/v2"})
    rec.record_sent({"message": "StartRecognition", "audio_format": {}, "transcription_config": {}})
    rec.record_received({"message": "RecognitionStarted", "id": "x"}, t=rec.now())


def audio(rec: Recorder, seq: int, start: float, end: float) -> None:
    rec.record_audio(seq, 3200, start, end, scheduled_t=rec.now())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(100.0)


@pytest.fixture
def rec(clock: ManualClock) -> Recorder:
    return Recorder(clock=clock)


def test_finals_normal_partial_grey_and_status(rec: Recorder, clock: ManualClock) -> None:
    view = LiveTranscript(rec, min_interval=0.0, clock=clock)
    started(rec)
    assert "waiting for audio" in view.status.value
    for k in range(10):
        clock.advance(0.1)
        audio(rec, k + 1, k * 0.1, (k + 1) * 0.1)
    rec.record_received(partial([word("hello", 0.1, 0.4)]), t=rec.now())
    assert view.partial_text == "hello"
    assert 'class="smnb-partial" style="color:#8a8a8a">hello<' in view.transcript.value
    rec.record_received(partial([word("hello", 0.1, 0.4), word("wor", 0.5, 0.8)]), t=rec.now())
    assert ">hello wor<" in view.transcript.value
    clock.advance(0.3)
    rec.record_received(
        final([word("hello", 0.1, 0.4), word("world", 0.5, 0.9), punct(".", 0.9)]), t=rec.now()
    )
    # The final supersedes the partial words it covers.
    assert view.partial_text == ""
    assert view.final_text == "hello world."
    assert '<span class="smnb-final">hello world.</span>' in view.transcript.value
    assert "smnb-partial" not in view.transcript.value
    status = view.status.value
    assert "1.0 s audio sent" in status
    assert "4 messages" in status  # RecognitionStarted, 2 partials, 1 final
    assert "2 partial, 1 final transcripts" in status
    # t0 = first frame's scheduled time − its audio_end; latency = (t − t0) − word end.
    t0 = 100.1 - 100.0 - 0.1
    assert f"last final latency {(rec.records[-1].t - t0) - 0.9:.2f} s" in status


def test_partial_tail_after_final_is_kept(rec: Recorder) -> None:
    view = LiveTranscript(rec, min_interval=0.0)
    started(rec)
    rec.record_received(partial([word("one", 0, 0.3), word("two", 0.4, 0.6)]), t=1.0)
    rec.record_received(final([word("one", 0, 0.3)]), t=1.1)
    assert view.final_text == "one"
    assert view.partial_text == "two"
    assert '<span class="smnb-final">one</span> <span class="smnb-partial"' in view.transcript.value


def test_speaker_labels_when_diarized(rec: Recorder) -> None:
    view = LiveTranscript(rec, min_interval=0.0)
    started(rec)
    rec.record_received(
        final([word("hi", 0, 0.2, "S1"), punct(".", 0.2, "S1"), word("yo", 0.5, 0.7, "S2")]),
        t=1.0,
    )
    rec.record_received(partial([word("there", 0.8, 1.0, "S2")]), t=1.1)
    html = view.transcript.value
    assert html.index("S1:</b>") < html.index(">hi.<") < html.index("S2:</b>") < html.index(">yo<")
    assert html.count("S2:</b>") == 1  # the partial continues S2's turn
    rec.record_received(partial([word("bye", 0.8, 1.0, "S1")]), t=1.2)
    assert view.transcript.value.count("S1:</b>") == 2  # a new turn for the partial


def test_no_labels_without_diarization(rec: Recorder) -> None:
    view = LiveTranscript(rec, min_interval=0.0)
    rec.record_received(final([word("plain", 0, 0.2)]), t=1.0)
    assert "smnb-label" not in view.transcript.value
    assert "smnb-channel" not in view.transcript.value.replace("smnb-channel-block", "")


def test_channel_blocks(rec: Recorder) -> None:
    view = LiveTranscript(rec, min_interval=0.0)
    rec.record_received(final([word("left", 0, 0.2)], channel="left"), t=1.0)
    rec.record_received(final([word("right", 0, 0.2)], channel="right"), t=1.1)
    rec.record_received(partial([word("more", 0.3, 0.5)], channel="left"), t=1.2)
    html = view.transcript.value
    assert html.index("[left]") < html.index(">left<") < html.index(">more<")
    assert html.index(">more<") < html.index("[right]") < html.index(">right<")
    assert view.state.final_text("left") == "left"
    assert view.state.partial_text("right") == ""


def test_html_is_escaped(rec: Recorder) -> None:
    view = LiveTranscript(rec, min_interval=0.0, title="<x>")
    rec.record_received(final([word("<script>", 0, 0.2)]), t=1.0)
    assert "<script>" not in view.transcript.value
    assert "&lt;script&gt;" in view.transcript.value
    assert view.title.value == "<b>&lt;x&gt;</b>"


def test_throttled_without_a_loop_then_end_renders(rec: Recorder, clock: ManualClock) -> None:
    view = LiveTranscript(rec, min_interval=1.0, clock=clock)
    renders = view.renders
    started(rec)  # attach has just rendered: these come within min_interval
    for k in range(20):
        rec.record_received(partial([word(f"w{k}", 0, 0.1)]), t=1.0)
    assert view.renders == renders  # within min_interval: nothing sent
    assert "w19" not in view.transcript.value
    clock.advance(1.0)
    rec.record_received(partial([word("w20", 0, 0.1)]), t=1.0)
    assert view.renders == renders + 1
    assert "w20" in view.transcript.value
    rec.record_received({"message": "EndOfTranscript"}, t=1.1)  # the end always renders
    assert view.renders == renders + 2
    assert "✓ done" in view.status.value


async def test_throttle_flushes_on_the_loop(rec: Recorder) -> None:
    view = LiveTranscript(rec, min_interval=0.05)
    for k in range(50):
        rec.record_received(partial([word(f"w{k}", 0, 0.1)]), t=1.0)
    assert view.renders <= 2
    await asyncio.sleep(0.15)  # the pending flush timer fires
    assert "w49" in view.transcript.value
    assert view.renders <= 3


def test_attach_replays_what_was_recorded(rec: Recorder) -> None:
    started(rec)
    rec.record_received(final([word("before", 0, 0.2)]), t=1.0)
    view = LiveTranscript(min_interval=0.0)
    view.attach(rec)
    rec.record_received(final([word("after", 0.3, 0.5)]), t=1.1)
    assert view.final_text == "before after"
    assert view.state.messages_received == 3


def test_error_and_closed_status(rec: Recorder) -> None:
    view = LiveTranscript(rec, min_interval=10.0)
    started(rec)
    rec.record_received({"message": "Error", "type": "quota_exceeded", "reason": "no"}, t=1.0)
    assert "✗ error" in view.status.value
    assert "quota_exceeded: no" in view.status.value
    assert "#c62828" in view.status.value
    view2 = LiveTranscript(Recorder(), min_interval=10.0)
    assert view2.recorder is not None
    view2.recorder.record_meta("Closed", {"code": 1006, "reason": ""})
    assert "closed" in view2.status_text


def test_records_from_another_thread(rec: Recorder) -> None:
    """The session loop may run on a thread of its own (sync transcribe)."""
    view = LiveTranscript(rec, min_interval=0.01)

    def session() -> None:
        async def run() -> None:
            started(rec)
            for k in range(30):
                rec.record_received(partial([word(f"p{k}", 0, 0.1)]), t=1.0)
                await asyncio.sleep(0.002)
            rec.record_received(final([word("done", 0, 0.2)]), t=2.0)
            rec.record_received({"message": "EndOfTranscript"}, t=2.1)

        asyncio.run(run())  # a test stands in for the client's private loop here

    th = threading.Thread(target=session)
    th.start()
    th.join(10)
    assert view.final_text == "done"
    assert ">done<" in view.transcript.value
    assert "✓ done" in view.status.value
    assert not rec.callback_errors


class FakeTranscription:
    def __init__(self, recorder: Recorder) -> None:
        self.result = type("R", (), {"recorder": recorder})()
        self.stopped_on: list[str] = []

    def stop(self) -> None:
        self.stopped_on.append(threading.current_thread().name)


async def test_stop_button_hands_over_to_the_session_loop(rec: Recorder) -> None:
    """A click may arrive on a subshell thread; stop() must run on the session loop."""
    t = FakeTranscription(rec)
    view = LiveTranscript(t, stop=t.stop)
    assert view.result is t.result
    assert find_recorder(t) is rec
    assert view.stop_button.layout.display != "none"
    clicker = threading.Thread(target=view.stop_button.click, name="subshell-x")
    clicker.start()
    clicker.join()
    assert t.stopped_on == []  # not called on the clicking thread
    await asyncio.sleep(0.01)
    assert t.stopped_on == [threading.current_thread().name]
    assert view.stop_button.disabled
    view.stop_button.click()  # a second click does nothing
    await asyncio.sleep(0.01)
    assert len(t.stopped_on) == 1
    rec.record_received({"message": "EndOfTranscript"}, t=1.0)
    # Nothing left to stop: the button stays in place, disabled and no longer orange.
    assert view.stop_button.disabled and view.stop_button.button_style == ""
    assert view.stop_button.description == "Stop"


def test_following_a_finished_session_disables_stop(rec: Recorder) -> None:
    rec.record_received({"message": "EndOfTranscript"}, t=1.0)
    view = LiveTranscript(rec, stop=lambda: None)
    assert view.stop_button.disabled and view.stop_button.button_style == ""
    assert "✓ done" in view.status_text


def test_no_stop_button_without_stop(rec: Recorder) -> None:
    view = LiveTranscript(rec)
    assert view.stop_button.layout.display == "none"


def test_refresh_resends_state(rec: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    view = LiveTranscript(rec, min_interval=100.0)
    sent: list[Any] = []
    for w in (view.transcript, view.status, view.widget):
        monkeypatch.setattr(w, "send_state", lambda *a, _w=w, **k: sent.append(_w))
    rec.record_received(final([word("late", 0, 0.2)]), t=1.0)
    view.refresh()
    assert ">late<" in view.transcript.value
    assert {id(w) for w in sent} >= {id(view.transcript), id(view.status), id(view.widget)}


def test_find_recorder_rejects_other_things() -> None:
    with pytest.raises(TypeError, match="Recorder, a Result or a Transcription"):
        find_recorder(42)


def test_long_transcripts_are_cut_at_the_front(rec: Recorder) -> None:
    view = LiveTranscript(rec, min_interval=0.0, max_chars=300)
    for k in range(200):
        rec.record_received(final([word(f"word{k}", k, k + 0.5)]), t=float(k))
    html = view.transcript.value
    assert len(html) < 800
    assert "word199" in html and "word0 " not in html and "… " in html


def test_no_latency_shown_faster_than_real_time(rec: Recorder) -> None:
    view = LiveTranscript(rec, min_interval=0.0, title="fast")
    rec.record_meta("Session", {"pace": "fast"})
    audio(rec, 1, 0.0, 5.0)
    rec.record_received(final([word("quick", 4.0, 4.5)]), t=rec.now())
    assert view.state.last_final_latency is not None
    assert "last final latency" not in view.status_text
    assert "pace fast: no latency" in view.status_text
    assert view.name == "fast"


def test_a_survived_problem_keeps_stop_and_the_session_going(rec: Recorder) -> None:
    view = LiveTranscript(rec, stop=lambda: None, min_interval=0.0)
    started(rec)
    message = "AudioAdded.seq_no must be a non-negative integer, not None"
    rec.record_meta("Problem", {"error": "ProtocolError", "message": message})
    assert view.stop_button.layout.display != "none"  # audio still streams: Stop stays
    assert not view.stop_button.disabled
    assert not view.state.finished and "error" not in view.status_text
    assert message in view.status_text  # listed, as a warning
    rec.record_received({"message": "EndOfTranscript"}, t=1.0)
    assert view.stop_button.disabled and "✓ done" in view.status_text


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[FakeHandle]:
    """IPython's display() replaced: every output a view creates, in order."""
    return fake_display(monkeypatch)


def test_the_output_carries_the_widget_and_a_snapshot_for_static_renderings(
    rec: Recorder, shown: list[FakeHandle]
) -> None:
    started(rec)
    view = LiveTranscript(rec, min_interval=0.0, stop=lambda: None, title="clip").display()
    rec.record_received(final([word("hello", 0.0, 0.4)]), t=1.0)
    rec.record_received(partial([word("wor", 0.4, 0.7)]), t=1.1)
    (handle,) = shown
    assert handle.kwargs == {"raw": True, "display_id": True}  # a mime bundle, a handle back
    bundle = handle.bundles[0]
    view_ref = bundle["application/vnd.jupyter.widget-view+json"]
    assert view_ref == {"version_major": 2, "version_minor": 0, "model_id": view.widget.model_id}
    # At display time nothing had arrived; the snapshot said so in words, not as VBox(...).
    assert bundle["text/plain"].startswith("clip · ") and "(no speech yet)" in bundle["text/plain"]
    assert "VBox" not in bundle["text/plain"]
    # The session ends: the output is rewritten with what the view shows at the end.
    rec.record_received({"message": "EndOfTranscript"}, t=2.0)
    last = handle.bundles[-1]
    assert len(handle.bundles) == 2
    assert "✓ done" in last["text/plain"] and "hello [wor]" in last["text/plain"]
    assert 'class="smnb-final">hello</span>' in last["text/html"]
    assert "smnb-status" in last["text/html"] and "snapshot of the live view" in last["text/html"]
    assert last["text/html"] == view.snapshot_html()


def test_refresh_rewrites_the_outputs_too(rec: Recorder, shown: list[FakeHandle]) -> None:
    started(rec)
    view = LiveTranscript(rec, min_interval=100.0).display()
    rec.record_received(final([word("late", 0, 0.2)]), t=1.0)
    view.refresh()
    assert "late" in shown[0].bundles[-1]["text/plain"]


def test_views_shown_are_listed_in_order(rec: Recorder, shown: list[FakeHandle]) -> None:
    from smnb.widgets import live_views

    first = LiveTranscript(rec, title="first").display()
    second = LiveTranscript(rec, title="second").display()
    hidden = LiveTranscript(rec, title="never shown")
    listed = live_views()
    assert listed[-2:] == [first, second] and hidden not in listed
    first.display()  # shown twice: listed once, and both outputs are kept up to date
    assert live_views()[-2:] == [first, second]


def test_the_view_carries_the_focus_guard_and_refresh_reaches_every_widget(
    rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ipywidgets

    from smnb.widgets.focus import FocusGuard

    controls = ipywidgets.HTML("controls")
    view = LiveTranscript(rec, controls=controls)
    guards = [w for w in _all(view.widget) if isinstance(w, FocusGuard)]
    assert len(guards) == 1
    sent: list[Any] = []
    for w in _all(view.widget):
        monkeypatch.setattr(w, "send_state", lambda *a, _w=w, **k: sent.append(_w))
    view.refresh()
    assert {id(w) for w in sent} >= {id(controls), id(view.stop_button), id(guards[0])}


def _all(widget: Any) -> list[Any]:
    out = [widget]
    for child in getattr(widget, "children", ()):
        out += _all(child)
    return out


def test_in_a_plain_script_live_prints_the_final_snapshot_not_a_bundle() -> None:
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = """
    import asyncio, smnb

    async def main():
        view = smnb.live("smnb/samples/cards-001.wav", pace="fast", timeout=120)
        await view
        print("final:", view.final_text)

    asyncio.run(main())
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECHMATICS_", "SM_"))}
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=root,
        env={**env, "PYTHONPATH": str(root)},  # the embedded local server
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr
    assert "{" not in run.stdout, run.stdout  # not the mime bundle's dict
    status, transcript, final = run.stdout.splitlines()  # once, when the session ended
    assert status.startswith("cards-001.wav · ✓ done · ")
    assert final == f"final: {transcript}" and transcript
