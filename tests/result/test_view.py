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
