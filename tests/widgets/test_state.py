"""TranscriptState and its renderers, fed records directly (no widget, no front end)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from smnb.clock import ManualClock
from smnb.recorder import Recorder
from smnb.widgets.state import TranscriptState, render_transcript_html, status_text
from tests.support.table_sessions import punct, transcript, word


@pytest.mark.parametrize("module", ["smnb.widgets.state", "smnb.protocol.text"])
def test_the_view_state_and_the_text_model_load_no_pandas_or_widgets(module: str) -> None:
    # A fresh interpreter: what importing the module (and its parent packages) loads.
    heavy = ("pandas", "numpy", "ipywidgets", "anywidget", "websockets", "asyncio")
    code = f"import sys, {module}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def fold(rec: Recorder) -> TranscriptState:
    state = TranscriptState()
    for record in rec.snapshot():
        state.apply(record)
    return state


def session(language: str = "en") -> tuple[Recorder, ManualClock]:
    clock = ManualClock()
    rec = Recorder(clock)
    rec.record_meta("Session", {"url": "ws://127.0.0.1/v2", "pace": "realtime"})
    config: dict[str, Any] = {"language": language}
    rec.record_sent({"message": "StartRecognition", "transcription_config": config})
    return rec, clock


def test_a_final_supersedes_the_partial_words_it_covers_and_measures_latency() -> None:
    rec, clock = session()
    rec.record_received({"message": "RecognitionStarted", "id": "x"}, t=0.0)
    clock.set(1.0)
    rec.record_audio(1, 3200, 0.0, 1.0, scheduled_t=1.0, t=1.0)  # t0 = 0
    partial = transcript("partial", 0, 1.5, [word("hello", 0, 0.5), word("word", 1.0, 1.5)])
    rec.record_received(partial, t=1.25)
    rec.record_received(transcript("final", 0, 1, [word("hello", 0, 0.5), punct(".", 0.75)]), t=1.5)
    state = fold(rec)
    assert state.final_text() == "hello."
    assert state.partial_text() == "word"  # the provisional tail after the final's end
    assert state.last_final_latency == 1.0  # 1.5 s received − 0.5 s end of the last word
    assert (state.phase, state.n_partials, state.n_finals) == ("streaming", 1, 1)
    html = render_transcript_html(state)
    assert '<span class="smnb-final">hello.</span>' in html and ">word</span>" in html


def test_the_language_sets_the_delimiter_until_the_server_announces_one() -> None:
    rec, _ = session(language="ja")
    rec.record_received(transcript("final", 0, 1, [word("今日", 0, 0.5), word("は", 0.5, 1)]), t=1)
    assert fold(rec).final_text() == "今日は"
    pack = {"message": "RecognitionStarted", "language_pack_info": {"word_delimiter": "_"}}
    rec.record_received(pack, t=1.5)
    assert fold(rec).final_text() == "今日_は"


def test_untimed_or_malformed_items_do_not_break_the_view() -> None:
    rec, _ = session()
    odd = {
        "message": "AddTranscript",
        "results": [
            {"type": "word", "start_time": "soon", "alternatives": [{"content": "a"}]},
            "not a result",
            {"type": "word", "alternatives": []},
        ],
    }
    rec.record_received(odd, t=1.0)
    state = fold(rec)
    assert state.final_text() == "a" and state.last_final_latency is None


def test_errors_and_the_end_of_the_transcript_set_the_phase() -> None:
    rec, _ = session()
    rec.record_received({"message": "RecognitionStarted", "id": "x"}, t=0.0)
    rec.record_received({"message": "Warning", "type": "duration_limit_exceeded"}, t=0.5)
    state = fold(rec)
    assert "warning duration_limit_exceeded" in status_text(state)
    rec.record_received({"message": "Error", "type": "invalid_audio", "reason": "bad"}, t=1.0)
    state = fold(rec)
    assert (state.phase, state.error, state.finished) == ("error", "invalid_audio: bad", True)
    assert "error invalid_audio: bad" in status_text(state)


SAMPLES = Path(__file__).resolve().parents[2] / "smnb" / "samples"


@pytest.mark.parametrize(
    ("sample", "diarization"),
    [("two-speakers.wav", "speaker"), ("stereo-two-channels.wav", "channel")],
)
def test_the_plain_text_has_the_labels_of_result_text(
    sample: str, diarization: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import smnb
    from smnb.widgets.state import snapshot_text

    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)  # the embedded local server
    monkeypatch.delenv("SPEECHMATICS_RT_URL", raising=False)
    r = smnb.transcribe(SAMPLES / sample, pace="fast", diarization=diarization, timeout=120)
    state = fold(r.recorder)
    lines = state.final_text().splitlines()
    assert snapshot_text(state).splitlines()[1:] == lines  # status, then the same transcript
    if diarization == "speaker":  # one stream: a line per turn, exactly Result.text's
        assert state.final_text() == r.text and "S1: " in r.text and "S2: " in r.text
    else:  # one block per channel; Result.text interleaves the channels' utterances
        by_label: dict[str, list[str]] = {}
        for line in r.text.splitlines():
            label, body = line.split(": ", 1)
            by_label.setdefault(label, []).append(body)
        assert lines == [f"{label}: {' '.join(b)}" for label, b in by_label.items()]
        assert [line.split(":")[0] for line in lines] == ["left", "right"]
        assert state.final_text("right") == " ".join(by_label["right"])  # no label: asked for
