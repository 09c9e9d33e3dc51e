"""Word replacement rules in the forms the docs give (plain, phrase, ECMAScript regex)."""

from __future__ import annotations

from typing import Any

import pytest

from smnb.server.protocol.replacements import apply_replacements, parse_replacements


def word(content: str, start: float) -> dict[str, Any]:
    return {
        "type": "word",
        "start_time": start,
        "end_time": start + 0.3,
        "alternatives": [{"content": content, "confidence": 0.9, "language": "en"}],
    }


def contents(results: list[dict[str, Any]]) -> list[str]:
    return [r["alternatives"][0]["content"] for r in results]


def apply(rules: list[dict[str, str]], *words: str) -> list[str]:
    results = [word(w, i * 0.5) for i, w in enumerate(words)]
    return contents(apply_replacements(parse_replacements(rules), results))


def test_the_docs_examples() -> None:
    rules = [{"from": "foo", "to": "bar"}, {"from": "heavy", "to": "light"}]
    # Case-sensitive: "Foo" is not replaced (docs).
    assert apply(rules, "foo", "Foo", "heavy") == ["bar", "Foo", "light"]
    assert apply([{"from": "/^[hH]ello$/", "to": "goodbye"}], "Hello", "hello", "hellos") == [
        "goodbye",
        "goodbye",
        "hellos",
    ]
    assert apply([{"from": "/(cheese)/", "to": "[$1]"}], "cheese", "cheeses") == [
        "[cheese]",
        "[cheese]s",
    ]


def test_plain_rules_come_first_and_one_rule_per_word() -> None:
    rules = [{"from": "/a/", "to": "A"}, {"from": "banana", "to": "fruit"}]
    # The plain rule wins although the regex is listed first; the regex is global.
    assert apply(rules, "banana", "cabana") == ["fruit", "cAbAnA"]
    chained = [{"from": "/o/", "to": "0"}, {"from": "/0/", "to": "zero"}]
    assert apply(chained, "foo") == ["f00"]  # no second rule after the first matched


def test_phrases_empty_results_flags_and_substitutions() -> None:
    phrase = apply_replacements(
        parse_replacements([{"from": "mister john", "to": "Mr John"}]),
        [word("mister", 0.0), word("john", 0.4), word("dashwood", 0.8)],
    )
    assert contents(phrase) == ["Mr John", "dashwood"]
    assert phrase[0]["start_time"] == 0.0 and phrase[0]["end_time"] == 0.7  # spans both
    assert apply([{"from": "um", "to": ""}], "um", "yes") == ["yes"]
    assert apply([{"from": "/^YES$/i", "to": "no"}], "Yes") == ["no"]
    assert apply([{"from": "/(?<first>.)(.*)/", "to": "$2$<first>$$ $&"}], "abc") == ["bca$ abc"]


@pytest.mark.parametrize("source", ["/(unclosed/", "/[a-/", "/x/q"])
def test_a_malformed_regex_is_an_error_naming_the_rule(source: str) -> None:
    with pytest.raises(ValueError, match=r"replacements\[1\].*not a valid regex"):
        parse_replacements([{"from": "ok", "to": "fine"}, {"from": source, "to": "x"}])
