"""smnb.metrics.reference: tracing normalised words back to their source words, and spans."""

from __future__ import annotations

import pytest

from smnb.metrics import Reference, RefWord, analyse
from smnb.metrics.reference import sourced_tokens
from tests.support.builder import SessionLog


def test_words_that_normalise_alone_keep_their_own_source() -> None:
    assert sourced_tokens(["Hello,", "um", "World."]) == [("hello", 0, 0), ("world", 2, 2)]
    assert sourced_tokens(["ill-disposed"]) == [("ill", 0, 0), ("disposed", 0, 0)]
    assert sourced_tokens([]) == []


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["a", "thirty", "five", "b"], [("a", 0, 0), ("35", 1, 2), ("b", 3, 3)]),
        (["nineteen", "ninety", "nine"], [("1999", 0, 2)]),
        (["paid", "twenty", "dollars", "now"], [("paid", 0, 0), ("$20", 1, 2), ("now", 3, 3)]),
    ],
)
def test_a_word_made_of_several_spans_all_of_them(
    words: list[str], expected: list[tuple[str, int, int]]
) -> None:
    assert sourced_tokens(words) == expected


def test_reference_spans_follow_a_merged_number() -> None:
    ref = Reference(
        "I am thirty five.",
        (RefWord("I", 0.0, 0.2), RefWord("am", 0.2, 0.4), RefWord("thirty", 0.4, 0.7),
         RefWord("five", 0.7, 1.0)),
    )  # fmt: skip
    assert ref.words() == ["i", "am", "35"]
    assert ref.spans() == [(0.0, 0.2), (0.2, 0.4), (0.4, 1.0)]


def test_a_number_split_over_items_and_finals_scores_as_one_word() -> None:
    # The recognizer finalises "thirty" and "five" in separate messages; the reference
    # has "35". Normalising the final text as a whole scores it correct, and the slot is
    # final when its last piece is.
    s = SessionLog(audio_seconds=1.5)
    s.final(0.8, ("i", 0.0, 0.2), ("am", 0.2, 0.4), ("thirty", 0.4, 0.7))
    s.final(1.25, ("five", 0.7, 1.0))
    metrics = analyse(s.end(1.5), Reference("I am 35"))
    assert metrics.score is not None and metrics.score.wer == 0.0
    final = metrics.tracks[0].finals[-1]
    assert (final.text, final.start, final.end, final.received_s) == ("35", 0.4, 1.0, 1.25)
