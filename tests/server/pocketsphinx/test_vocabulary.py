"""smnb.server.pocketsphinx.vocabulary: additional_vocab → pronunciations, never guessed.

Besides a tiny hand lexicon, the plans are checked against pocketsphinx's packaged
CMUdict, the dictionary the decoder itself looks words up in.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pocketsphinx
import pytest

from smnb.server.pocketsphinx.vocabulary import (
    PlannedWord,
    as_entry,
    decoder_token,
    plan,
    pronounce,
)
from smnb.server.recognizer import VocabEntry

CMUDICT = Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"


@cache
def _cmudict() -> dict[str, str]:
    """word → its first pronunciation, as ``Decoder.lookup_word`` answers."""
    out: dict[str, str] = {}
    for line in CMUDICT.read_text(encoding="utf-8").splitlines():
        word, _, phones = line.partition(" ")
        if "(" not in word:  # "read(2)": alternatives are not what lookup_word returns
            out.setdefault(word, phones.split("#")[0].strip())
    return out


def cmudict(word: str) -> str | None:
    return _cmudict().get(word)


def test_vocabulary_plan_uses_sounds_like_and_skips_the_unpronounceable() -> None:
    lexicon = {"speech": "S P IY CH", "mat": "M AE T", "ticks": "T IH K S", "cat": "K AE T"}
    result = plan(
        [VocabEntry("Speechmatics", ("speech mat ticks",)), "cat", "Qwzx", "fat cat"],
        lexicon.get,
    )
    assert [(w.token, w.content, w.pronunciations) for w in result.words] == [
        ("speechmatics", "Speechmatics", ("S P IY CH M AE T T IH K S",))
    ]
    assert result.skipped == ("Qwzx", "fat cat")


def test_a_plain_string_becomes_an_entry_and_an_entry_stays_itself() -> None:
    assert as_entry("Speechmatics") == VocabEntry("Speechmatics", ())
    entry = VocabEntry("Smnb", ("s m n b",))
    assert as_entry(entry) is entry


@pytest.mark.parametrize(
    ("content", "token"),
    [("Speechmatics", "speechmatics"), ("New  York City", "new_york_city"), (" A.I. ", "a.i.")],
)
def test_decoder_tokens_are_lowercase_without_spaces(content: str, token: str) -> None:
    assert decoder_token(content) == token
    assert " " not in decoder_token(content)


def test_a_phrase_is_pronounced_word_by_word_from_the_dictionary() -> None:
    words = ("small", "bottle", "run")
    expected = " ".join(cmudict(w) or "" for w in words)
    assert pronounce("small bottle run", cmudict) == expected
    # case and punctuation are not words
    assert pronounce("Small, BOTTLE -- run!", cmudict) == expected
    assert pronounce("don't", cmudict) == cmudict("don't")


@pytest.mark.parametrize("phrase", ["small zxqvtl run", "", "?!", "   "])
def test_a_phrase_with_any_unknown_word_or_no_words_has_no_pronunciation(phrase: str) -> None:
    assert pronounce(phrase, cmudict) is None


def test_known_words_and_phrases_of_known_words_need_nothing() -> None:
    result = plan(["kittens", "New York", VocabEntry("cat")], cmudict)
    assert result.words == () and result.skipped == ()


def test_a_new_word_gets_each_pronounceable_spelling_once_sounds_like_first() -> None:
    entry = VocabEntry(
        "Smnbotron", sounds_like=("small bottle run", "Small bottle, run", "smaul zxq")
    )
    result = plan([entry], cmudict)
    assert result.words == (
        PlannedWord("smnbotron", "Smnbotron", (pronounce("small bottle run", cmudict) or "",)),
    )
    assert result.skipped == ()


def test_a_known_word_with_sounds_like_adds_its_own_spelling_after_them() -> None:
    result = plan([VocabEntry("Cat", sounds_like=("kit",))], cmudict)
    (word,) = result.words
    assert word.token == "cat" and word.content == "Cat"
    assert word.pronunciations == (cmudict("kit"), cmudict("cat"))


def test_multiword_content_keeps_its_spaces_in_the_output_but_not_in_the_token() -> None:
    result = plan([VocabEntry("Smnb Labs", sounds_like=("small labs",))], cmudict)
    (word,) = result.words
    assert (word.token, word.content) == ("smnb_labs", "Smnb Labs")
    assert word.pronunciations == (pronounce("small labs", cmudict),)


def test_unpronounceable_entries_are_reported_in_order_and_blank_ones_ignored() -> None:
    entries = ["Zxqvtl", "  ", VocabEntry("Qwzx", ("qwzx qwzx",)), "small zxqvtl", "Smnb"]
    result = plan(entries, cmudict)
    assert result.words == ()
    assert result.skipped == ("Zxqvtl", "Qwzx", "small zxqvtl", "Smnb")


def test_the_plan_keeps_the_order_of_the_entries() -> None:
    entries = [
        VocabEntry("Zorblat", ("zone block",)),
        VocabEntry("Smnbotron", ("small bottle run",)),
        VocabEntry("Zorblat two", ("zone block two",)),
    ]
    assert [w.content for w in plan(entries, cmudict).words] == [
        "Zorblat", "Smnbotron", "Zorblat two",
    ]  # fmt: skip
