"""How a Result shows itself (smnb.result.view): the text repr and the HTML card.

Expected numbers are worked out by hand from tests/fixtures (see its README).
"""

from __future__ import annotations

from smnb.result import Result
from tests.support.results import loaded
from tests.support.table_sessions import Session, transcript, word


def test_repr_shows_source_state_counts_and_text() -> None:
    text = repr(loaded("simple"))
    for part in ("hello.wav", "completed", "5 in 2 utterances", "p50 0.62 s", "Hello world."):
        assert part in text, part
    html = loaded("diarized")._repr_html_()
    assert "two-speakers.wav" in html and "S1: Hi there." in html


def test_html_escapes_what_the_server_sent() -> None:
    s = Session()
    s.audio(0.25, 1, 0.0, 0.25, due=0.25)
    s.recv(1.0, transcript("final", 0, 1, [word("<script>alert(1)</script>", 0.5, 0.75)]))
    html = Result(s.recorder)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def fast_session() -> Result:
    s = Session()
    s.recorder.records[0].payload["pace"] = "fast"
    s.audio(0.01, 1, 0.0, 0.1, due=0.01)  # two seconds of audio sent in 20 ms
    s.audio(0.02, 2, 0.1, 2.0, due=0.02)
    s.recv(0.5, transcript("final", 0, 2, [word("late", 1.5, 1.9)]))
    return Result(s.recorder)


def test_at_fast_pace_latency_says_it_means_nothing() -> None:
    r = fast_session()
    assert r.words["latency_s"].iloc[0] < 0  # the raw numbers stay in the table
    assert r.pace == "fast" and not r.latency_meaningful
    assert r.final_latency(0.5) is None and r.final_latency(0.95) is None
    text = repr(r)
    assert "not meaningful at fast pace" in text and "-" not in text.split("final latency")[1][:20]
    assert "not meaningful at fast pace" in r._repr_html_()
    summary = r.summary()["final_latency_s"]
    assert summary == {
        "n": 1,
        "p50": None,
        "p95": None,
        "note": "not meaningful at fast pace (audio sent faster than real time)",
    }
