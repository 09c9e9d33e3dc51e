"""smnb.tables.text: tokens, joining by attaches_to, the word delimiter, turns and labels."""

from __future__ import annotations

import io

from smnb import tables
from smnb.cli.transcribe import _LiveLine
from smnb.recorder import read_jsonl
from smnb.tables.text import Token, join, labelled, tokens_from, tokens_of, turns
from smnb.widgets.state import TranscriptState
from tests.support.table_sessions import Session, fixture, punct, transcript, word


def test_join_tokens_follows_attaches_to() -> None:
    tokens = [
        word("a", 0, 1),
        punct(",", 1, eos=False),  # previous
        punct("(", 1, eos=False, attaches="next"),
        word("b", 1, 2),
        punct(")", 2, eos=False, attaches=None),  # missing → previous
        punct("/", 2, eos=False, attaches="both"),
        word("c", 2, 3),
        punct("&", 3, eos=False, attaches="none"),
        word("d", 3, 4),
    ]
    assert tables.join_tokens(tokens) == "a, (b)/c & d"
    assert tables.join_tokens(tokens, "") == "a,(b)/c&d"
    assert tables.join_tokens([punct(".", 0)]) == "."


def test_entity_without_alternatives_uses_its_written_form() -> None:
    entity = {
        "type": "entity",
        "start_time": 0,
        "end_time": 1,
        "written_form": [word("20", 0, 0.5), word("March", 0.5, 1)],
    }
    assert tables.join_tokens([word("on", 0, 0), entity]) == "on 20 March"


def test_word_delimiter_comes_from_the_language_pack_or_the_language() -> None:
    s = Session(language="ja")
    s.recv(0, transcript("final", 0, 1, [word("今日", 0, 0.5), word("は", 0.5, 1)]))
    assert tables.text(s.recorder) == "今日は"
    s.recv(0, {"message": "RecognitionStarted", "language_pack_info": {"word_delimiter": "_"}})
    assert tables.word_delimiter(s.recorder) == "_"
    assert tables.word_delimiter(read_jsonl(fixture("simple"))) == " "


# --- the token model ----------------------------------------------------------------


def test_tokens_take_attaches_to_from_punctuation_only() -> None:
    w = word("hi", 0.25, 0.5, speaker="S1")
    w["attaches_to"] = "previous"  # words never attach, whatever they carry
    toks = tokens_from([w, punct(",", 0.5), punct("¿", 0.5, attaches="next"), {}])
    assert [(t.content, t.attaches_to) for t in toks] == [
        ("hi", "none"),
        (",", "previous"),
        ("¿", "next"),
    ]
    assert (toks[0].start_time, toks[0].end_time, toks[0].speaker) == (0.25, 0.5, "S1")
    assert toks[1].glue_prev and not toks[1].glue_next and toks[2].glue_next
    odd = {"type": "punctuation", "attaches_to": "sideways", "alternatives": [{"content": "!"}]}
    assert Token.from_result(odd) == Token("!", "punctuation", "previous")
    timeless = {"type": "word", "start_time": "1", "alternatives": [{"content": "x"}]}
    assert Token.from_result(timeless) == Token("x", "word", "none", None, None)
    assert tokens_of({"results": "nope"}) == []


def test_turns_follow_speakers_and_keep_punctuation_with_its_word() -> None:
    items = [
        word("hi", 0, 1, speaker="S1"),
        punct(".", 1, speaker="S2"),  # attached: stays with S1's turn
        word("yo", 1, 2, speaker="S2"),
        word("ok", 2, 3, speaker="S2"),
        word("so", 3, 4, speaker="S1"),
    ]
    runs = turns(tokens_from(items))
    assert [(s, join(toks)) for s, toks in runs] == [
        ("S1", "hi."),
        ("S2", "yo ok"),
        ("S1", "so"),
    ]


def test_labelled_lines() -> None:
    assert labelled("hi") == "hi"
    assert labelled("hi", speaker="S1") == "S1: hi"
    assert labelled("hi", "left", "S1") == "left S1: hi"


def _recorded(*messages: dict[str, object]) -> Session:
    s = Session()
    s.recv(0.0, {"message": "RecognitionStarted", "language_pack_info": {"word_delimiter": " "}})
    for k, msg in enumerate(messages):
        s.recv(1.0 + k, msg)
    return s


def test_the_table_the_widget_and_the_cli_render_the_same_text() -> None:
    # One model, three views: the tables' text, the live widget's finals and the
    # CLI's running line must agree on joining and spacing across messages.
    s = _recorded(
        transcript("final", 0, 1, [punct("¿", 0, eos=False, attaches="next"), word("Qué", 0, 1)]),
        transcript("final", 1, 2, [word("tal", 1, 2), punct("?", 2)]),
        transcript(
            "final", 2, 3, [word("rock", 2, 2.5), punct("-", 2.5, eos=False, attaches="both")]
        ),
        transcript(
            "final",
            3,
            4,
            [word("n", 3, 3.5), punct("'", 3.5, eos=False, attaches="both"), word("roll", 3.5, 4)],
        ),
    )
    expected = "¿Qué tal? rock-n'roll"
    assert tables.text(s.recorder) == expected

    state = TranscriptState()
    for rec in s.recorder.snapshot():
        state.apply(rec)
    assert state.final_text() == expected

    out = io.StringIO()
    line = _LiveLine(out)
    for rec in s.recorder.snapshot():
        line(rec)
    assert out.getvalue().rsplit("\r\x1b[K", 1)[-1] == expected


def test_the_widget_and_the_cli_use_the_announced_word_delimiter() -> None:
    s = Session(language="ja")
    s.recv(0.0, {"message": "RecognitionStarted", "language_pack_info": {"word_delimiter": ""}})
    s.recv(1.0, transcript("final", 0, 1, [word("今日", 0, 0.5), word("は", 0.5, 1)]))
    s.recv(1.5, transcript("partial", 1, 2, [word("晴れ", 1, 2)]))
    state = TranscriptState()
    out = io.StringIO()
    line = _LiveLine(out)
    for rec in s.recorder.snapshot():
        state.apply(rec)
        line(rec)
    assert (state.final_text(), state.partial_text()) == ("今日は", "晴れ")
    assert out.getvalue().rsplit("\r\x1b[K", 1)[-1] == "今日は晴れ"
    assert tables.text(s.recorder) == "今日は"
