"""The pinned normaliser (Whisper's English normaliser): its rules on hand-written text.

The tests of smnb's former hand-written normaliser keep their intent here. Expected values
differ from that normaliser only where Whisper's rules legitimately differ (listed in
docs/experiments.md): spelled-out numbers become digits, ``'s`` becomes `` is``, ``&`` is a
symbol (dropped), a number with a leading zero is read as a quantity.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from smnb.metrics import normalise
from smnb.metrics.normalise import normalise as norm
from smnb.metrics.normalise import tokens

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_name_and_version_are_pinned() -> None:
    assert normalise.describe() == {
        "name": "whisper-english",
        "package": "whisper-normalizer",
        "version": version("whisper-normalizer"),
    }
    assert normalise.label() == f"whisper-english/{version('whisper-normalizer')}"
    deps = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = [d for d in deps if re.match(r"whisper-normalizer\b", d)]
    assert pins and "<" in pins[0], "whisper-normalizer must be pinned to a range"


def test_case_and_punctuation() -> None:
    assert norm("He was NOT an ill-disposed young man.") == "he was not an ill disposed young man"
    assert tokens("Well... yes; (maybe) no!") == ["well", "yes", "no"]


def test_quotes_go_and_an_apostrophe_s_is_read_as_is() -> None:
    assert tokens("Kate's cat said 'hello'") == ["kate", "is", "cat", "said", "hello"]
    # Whisper does not fold typographic apostrophes: a known difference (docs/experiments.md).
    assert tokens("kate\u2019s") == ["kate", "s"]


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
        ("he's", "he is"),
        ("gonna", "going to"),
    ],
)
def test_contractions(text: str, expected: str) -> None:
    assert norm(text) == expected


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("zero", "0"),
        ("thirteen", "13"),
        ("twenty", "20"),
        ("twenty one", "21"),
        ("one hundred", "100"),
        ("one hundred five", "105"),
        ("one thousand", "1000"),
        ("one thousand one", "1001"),
        ("one million two hundred thirty four thousand five hundred sixty seven", "1,234,567"),
    ],
)
def test_cardinals_read_the_same_spoken_or_written(spoken: str, written: str) -> None:
    assert norm(spoken) == norm(written) == written.replace(",", "")


@pytest.mark.parametrize(
    ("spoken", "written"),
    [("first", "1st"), ("second", "2nd"), ("third", "3rd"), ("twelfth", "12th"),
     ("twenty first", "21st"), ("fortieth", "40th"), ("one hundredth", "100th")],
)  # fmt: skip
def test_ordinals_read_the_same_spoken_or_written(spoken: str, written: str) -> None:
    assert norm(spoken) == norm(written) == written


def test_numbers_in_text() -> None:
    assert norm("I am 35.") == norm("I am thirty-five") == "i am 35"
    assert norm("1,250 cats") == "1250 cats"
    assert norm("3.5 kg") == "3.5 kg"
    assert norm("the 21st and 3rd") == "the 21st and 3rd"
    assert norm("agent 007") == "agent 7"


def test_currency_percent_and_ampersand() -> None:
    assert norm("$20") == norm("twenty dollars") == "$20"
    assert norm("£3") == norm("three pounds") == "£3"
    assert norm("12%") == norm("twelve percent") == "12%"
    assert norm("rock & roll") == "rock roll"  # "&" is a symbol to Whisper


def test_titles_hesitations_and_brackets() -> None:
    assert norm("Mr. Dashwood and Mrs. Smith") == "mister dashwood and missus smith"
    assert norm("um so uh hmm yes") == "so yes"
    assert norm("[noise] hello <sil> (laughs) world") == "hello world"


def test_british_spellings_become_american() -> None:
    assert norm("the colour grey") == "the color gray"


def test_empty_and_whitespace() -> None:
    assert tokens("") == []
    assert tokens("   ") == []
    assert tokens("well ... yes") == ["well", "yes"]
