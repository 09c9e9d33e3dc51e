"""The pinned normaliser: every rule in its docstring, checked on hand-written text."""

from __future__ import annotations

import pytest

from smnb.metrics import normalise
from smnb.metrics.normalise import cardinal, ordinal, tokens
from smnb.metrics.normalise import normalise as norm


def test_name_and_version_are_pinned() -> None:
    assert normalise.describe() == {"name": "smnb-en", "version": "1"}


def test_case_and_punctuation() -> None:
    assert norm("He was NOT an ill-disposed young man.") == "he was not an ill disposed young man"
    assert tokens("Well... yes; (maybe) no!") == ["well", "yes", "no"]


def test_apostrophes_inside_words_stay_quotes_go() -> None:
    assert tokens("Kate's cat said 'hello'") == ["kate's", "cat", "said", "hello"]
    assert tokens("kate\u2019s") == ["kate's"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("won't", "will not"),
        ("can't", "can not"),
        ("doesn't", "does not"),
        ("they're", "they are"),
        ("we'll", "we will"),
        ("I've", "i have"),
        ("I'm", "i am"),
        ("she'd", "she would"),
        ("he's", "he's"),
    ],
)
def test_contractions(text: str, expected: str) -> None:
    assert norm(text) == expected


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (20, "twenty"),
        (21, "twenty one"),
        (100, "one hundred"),
        (105, "one hundred five"),
        (1000, "one thousand"),
        (1001, "one thousand one"),
        (1_234_567, "one million two hundred thirty four thousand five hundred sixty seven"),
    ],
)
def test_cardinals(n: int, words: str) -> None:
    assert cardinal(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [(1, "first"), (2, "second"), (3, "third"), (12, "twelfth"), (21, "twenty first"),
     (40, "fortieth"), (100, "one hundredth")],
)  # fmt: skip
def test_ordinals(n: int, words: str) -> None:
    assert ordinal(n) == words


def test_numbers_in_text() -> None:
    assert norm("I am 35.") == "i am thirty five"
    assert norm("1,250 cats") == "one thousand two hundred fifty cats"
    assert norm("3.5 kg") == "three point five kg"
    assert norm("the 21st and 3rd") == "the twenty first and third"
    assert norm("agent 007") == "agent zero zero seven"


def test_currency_percent_and_ampersand() -> None:
    assert norm("$20") == "twenty dollars"
    assert norm("£3") == "three pounds"
    assert norm("12%") == "twelve percent"
    assert norm("rock & roll") == "rock and roll"


def test_titles_hesitations_and_brackets() -> None:
    assert norm("Mr. Dashwood and Mrs. Smith") == "mister dashwood and missus smith"
    assert norm("um so uh hmm yes") == "so yes"
    assert norm("[noise] hello <sil> (laughs) world") == "hello world"


def test_empty_and_whitespace() -> None:
    assert tokens("") == []
    assert tokens("  ...  ") == []
