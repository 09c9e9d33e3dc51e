"""smnb.protocol.text: tokens, joining by attaches_to, delimiters, turns and labels."""

from __future__ import annotations

from smnb.protocol.text import (
    Token,
    announced_delimiter,
    delimiter_for,
    join,
    join_tokens,
    labelled,
    requested_language,
    tokens_from,
    tokens_of,
    turns,
)
from tests.support.table_sessions import punct, word


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
    assert join_tokens(tokens) == "a, (b)/c & d"
    assert join_tokens(tokens, "") == "a,(b)/c&d"
    assert join_tokens([punct(".", 0)]) == "."


def test_entity_without_alternatives_uses_its_written_form() -> None:
    entity = {
        "type": "entity",
        "start_time": 0,
        "end_time": 1,
        "written_form": [word("20", 0, 0.5), word("March", 0.5, 1)],
    }
    assert join_tokens([word("on", 0, 0), entity]) == "on 20 March"


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


def test_delimiters_from_the_language_pack_or_the_language() -> None:
    assert announced_delimiter({"language_pack_info": {"word_delimiter": "_"}}) == "_"
    assert announced_delimiter({"language_pack_info": {}}) is None
    assert requested_language({"transcription_config": {"language": "ja"}}) == "ja"
    assert requested_language({}) is None
    assert (delimiter_for("ja"), delimiter_for("cmn"), delimiter_for("en")) == ("", "", " ")
