"""Mapping partials onto final words (scenario A, see tests/support/scenarios.py)."""

from __future__ import annotations

import math

import pytest

from smnb import tables
from smnb.metrics.tracks import Tracks, build_tracks, item_tokens, prefix_align
from tests.support.builder import SessionLog, item
from tests.support.scenarios import scenario_a


def tracks_of(recorder: object) -> Tracks:
    t = tables.all_tables(recorder)  # type: ignore[arg-type]
    return build_tracks(t["words"], t["partials"], t["transcripts"], audio=t["audio"])


@pytest.mark.parametrize(
    ("hyp", "target", "expected"),
    [
        (["he", "was", "knot"], ["he", "was", "not", "young"], [0, 1, 2]),  # sub, not phantom
        (["a", "z"], ["a", "b", "z"], [0, 2]),  # exact match beats a substitution
        (["a", "b", "c"], ["x", "a", "b", "c", "a", "b", "c"], [1, 2, 3]),  # earliest repeat
        (["the"], ["a", "the", "b", "the"], [1]),
        # fewest edits first: two substitutions beat skipping three words to match two
        (["a", "b"], ["x", "x", "x", "a", "b"], [0, 1]),
        (["q", "r"], [], [None, None]),  # nothing left to finalise: phantoms
        ([], ["a"], []),
    ],
)
def test_prefix_align(hyp: list[str], target: list[str], expected: list[int | None]) -> None:
    assert prefix_align(hyp, target) == expected


def test_prefix_align_respects_a_pairing_guard() -> None:
    # Forbid hyp 1 <-> target 1: "x" becomes a phantom instead of a substitution.
    assert prefix_align(["a", "x"], ["a", "y"], lambda i, j: (i, j) != (1, 1)) == [0, None]


def test_a_partial_word_never_shows_a_word_spoken_after_a_pause() -> None:
    # Seen on the local server: the partial "him so" (0.2-0.7) precedes the final "himself"
    # (0.2-0.9); the next final, "hello", comes after a pause (2.5-2.8). "so" was dropped, it
    # did not preview "hello": their audio does not overlap.
    s = SessionLog(audio_seconds=3.0)
    s.partial(1.0, ("him", 0.2, 0.4), ("so", 0.4, 0.7))
    s.final(1.5, ("himself", 0.2, 0.9))
    s.final(3.5, ("hello", 2.5, 2.8))
    tr = tracks_of(s.end(3.6))
    assert tr.partials[0].shown == {0: "him"}
    assert tr.partials[0].phantoms == 1
    assert math.isnan(tr.first_partial_s(1))


def test_a_partial_never_shows_a_word_whose_audio_was_not_sent_yet() -> None:
    # Frames are sent as their audio ends, so at t = 1.0 the server has heard 1.0 s. The
    # partial's "b" (stamped 1.2-1.4) overlaps the final "b" (1.3-1.5) but cannot be it.
    s = SessionLog(audio_seconds=2.0)
    s.partial(1.0, ("a", 0.5, 0.9), ("b", 1.2, 1.4))
    s.final(2.0, ("a", 0.5, 0.9), ("b", 1.3, 1.5))
    tr = tracks_of(s.end(2.1))
    assert tr.partials[0].shown == {0: "a"}
    # Without the audio table there is no causality check and "b" would map.
    t = tables.all_tables(s.recorder)
    loose = build_tracks(t["words"], t["partials"], t["transcripts"])
    assert loose.partials[0].shown == {0: "a", 1: "b"}


def test_final_slots_skip_punctuation_and_keep_item_timing() -> None:
    tr = tracks_of(scenario_a())
    assert [t.text for t in tr.finals] == ["he", "was", "knot", "young", "man", "today"]
    assert [t.received_s for t in tr.finals] == [1.4, 1.4, 2.0, 2.0, 2.6, 2.6]
    assert (tr.finals[1].start, tr.finals[1].end) == (0.3, 0.6)


def test_partials_map_onto_the_words_they_preview() -> None:
    tr = tracks_of(scenario_a())
    assert [v.shown for v in tr.partials] == [
        {0: "he"},
        {0: "he", 1: "wash"},
        {0: "he", 1: "was", 2: "not"},
        {2: "not"},  # after the first final: the cursor has moved to slot 2
        {4: "man"},
        {4: "man", 5: "today"},
        {},  # the empty partial is kept: it clears the provisional text
    ]
    assert all(v.phantoms == 0 for v in tr.partials)


def test_first_partial_revisions_and_revision_times() -> None:
    tr = tracks_of(scenario_a())
    firsts = [tr.first_partial_s(k) for k in range(6)]
    assert firsts[:3] == [0.5, 0.8, 1.2] and math.isnan(firsts[3]) and firsts[4:] == [2.05, 2.3]
    # was: wash -> was (1); knot: not, not -> final knot (1); the rest never changed.
    assert [tr.revisions(k) for k in range(6)] == [0, 1, 1, 0, 0, 0]
    assert tr.revision_times(1) == [1.2]
    assert tr.revision_times(2) == []  # its change came with the final


def test_displayed_text_over_time() -> None:
    tr = tracks_of(scenario_a())
    assert tr.displayed(1, 0.79) is None  # partial 1 shows only "he"
    assert tr.displayed(1, 0.8) == "wash"
    assert tr.displayed(1, 1.3) == "was"
    assert tr.displayed(1, 1.4) == "was"  # now final
    assert tr.displayed(3, 1.9) is None  # "young" was never in a partial
    assert tr.displayed(5, 2.7) == "today"  # final arrived at 2.6


def test_a_word_the_finals_never_confirm_is_a_phantom() -> None:
    s = SessionLog(audio_seconds=1.0)
    s.partial(0.5, ("hi", 0.1, 0.3), ("um", 0.3, 0.4), ("there", 0.4, 0.6))
    s.final(1.0, ("hi", 0.1, 0.3), ("there", 0.4, 0.6))
    tr = tracks_of(s.end(1.1))
    # "um" is dropped by the normaliser, so nothing is a phantom here ...
    assert tr.partials[0].shown == {0: "hi", 1: "there"}
    s = SessionLog(audio_seconds=1.0)
    s.partial(0.5, ("hi", 0.1, 0.3), ("bob", 0.3, 0.4), ("there", 0.4, 0.6))
    s.final(1.0, ("hi", 0.1, 0.3), ("there", 0.4, 0.6))
    tr = tracks_of(s.end(1.1))
    # ... but "bob" is shown and never finalised.
    assert tr.partials[0].shown == {0: "hi", 1: "there"}
    assert tr.partials[0].phantoms == 1


def _final_with(results: list[dict[str, object]]) -> object:
    s = SessionLog(audio_seconds=1.0)
    s.recorder.record_received(
        {"message": "AddTranscript", "metadata": {"start_time": 0.0, "end_time": 0.6,
         "transcript": ""}, "results": results},
        1.0,
    )  # fmt: skip
    return s.end(1.1)


def test_entity_counts_only_when_its_words_are_absent() -> None:
    words = [item("thirty", 0.2, 0.4), item("five", 0.4, 0.6)]
    both = _final_with([item("35", 0.2, 0.6, "entity"), *words])
    # Whisper's normaliser writes the spoken words as digits: one slot over both items,
    # and the entity is not counted a second time.
    toks = item_tokens(tables.words(both))
    assert [(t.text, t.start, t.end) for t in toks] == [("35", 0.2, 0.6)]
    alone = _final_with([item("I", 0.0, 0.2), item("35", 0.2, 0.6, "entity")])
    assert [t.text for t in item_tokens(tables.words(alone))] == ["i", "35"]
