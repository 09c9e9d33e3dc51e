"""smnb.metrics.reference: reference files, spans, and tracing normalised words to sources."""

from __future__ import annotations

import json
import math
from pathlib import Path

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


def test_reference_files_and_timing_alignment(tmp_path: Path) -> None:
    audio = tmp_path / "clip.wav"
    audio.write_bytes(b"")
    (tmp_path / "clip.txt").write_text("Mr. Dashwood was ill-disposed\n")
    timings = [
        {"word": "mister", "start": 0.0, "end": 0.3},
        {"word": "dashwood", "start": 0.3, "end": 0.8},
        {"word": "was", "start": 0.8, "end": 1.0},
        {"word": "ill-disposed", "start": 1.0, "end": 1.6},
    ]
    (tmp_path / "clip.words.json").write_text(json.dumps(timings))
    ref = Reference.for_audio(audio)
    assert ref is not None
    assert ref.words() == ["mister", "dashwood", "was", "ill", "disposed"]
    # "ill-disposed" splits into two words sharing the timing of the one entry.
    assert ref.spans() == [(0.0, 0.3), (0.3, 0.8), (0.8, 1.0), (1.0, 1.6), (1.0, 1.6)]
    assert Reference.from_json(ref.to_json()) == ref


def test_no_reference_next_to_audio(tmp_path: Path) -> None:
    assert Reference.for_audio(tmp_path / "nothing.wav") is None


def test_text_without_timings_has_nan_spans() -> None:
    ref = Reference("a b")
    assert all(math.isnan(x) for span in ref.spans() for x in span)
    assert Reference.from_files  # the class method exists for files
    assert ref.timings is None
    assert RefWord("a", 0.0, 1.0).end == 1.0
