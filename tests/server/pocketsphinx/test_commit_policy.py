"""smnb.server.pocketsphinx.commit_policy: when pending words become finals, where to cut.

Pure functions of word timings in audio time. Budget = max_delay - 0.15 (SAFETY_MARGIN);
a check looks CHECK_INTERVAL (0.03 s) ahead; the oldest word's deadline counts from at most
SPLIT_ALLOWANCE (0.15 s) after its start. Boundary checks sit 5 ms either side of the
computed instant, clear of floating-point rounding.
"""

from __future__ import annotations

import math

import pytest

from smnb.server.pocketsphinx.commit_policy import (
    ASSUMED_DECODING_RTF,
    CHECK_INTERVAL,
    FLEXIBLE_HOLD,
    MAX_STABLE_CONTEXT,
    SAFETY_MARGIN,
    SPLIT_ALLOWANCE,
    CommitPolicy,
    is_number_word,
)
from smnb.server.recognizer import Word

EPS = 0.005


def words(*spec: tuple[str, float, float]) -> list[Word]:
    return [Word(c, s, e) for c, s, e in spec]


# Fluent speech, no gap anywhere.
FLUENT = words(("a", 0.0, 0.3), ("b", 0.3, 0.6), ("c", 0.6, 0.9), ("d", 0.9, 1.2), ("e", 1.2, 2.0))


# ----------------------------------------------------------------- moved from test_recognizer


def test_fixed_mode_commits_at_the_deadline_and_flexible_holds_a_number() -> None:
    pending = words(("thirty", 1.0, 1.3), ("five", 1.3, 1.6))
    fixed_policy = CommitPolicy(1.0, "fixed")
    flexible = CommitPolicy(1.0, "flexible")
    due_at = 1.0 + 0.15 + fixed_policy.budget  # split allowance: counted from start + 0.15
    assert not fixed_policy.is_due(pending, due_at - 0.1)
    assert fixed_policy.is_due(pending, due_at)
    assert fixed_policy.due_words(pending, due_at) == tuple(pending[:1])
    # flexible: the number is still being spoken, so it is held (boundedly) ...
    assert not flexible.is_due(pending, due_at)
    assert flexible.is_due(pending, due_at + FLEXIBLE_HOLD)
    # ... and once a non-number word follows, the whole number is committed together
    finished = [*pending, Word("years", 1.7, 2.0)]
    assert flexible.is_due(finished, due_at)
    assert flexible.due_words(finished, due_at) == tuple(pending)


def test_a_cut_prefers_the_latest_pause_with_enough_right_context() -> None:
    policy = CommitPolicy(2.0, "fixed")  # budget 1.85, stable context 0.925
    spoken = words(
        ("he", 0.0, 0.2), ("was", 0.2, 0.5), ("not", 0.8, 1.0), ("an", 1.0, 1.1),
        ("ill", 1.5, 1.8), ("man", 1.8, 2.4),
    )  # fmt: skip
    now = 1.98  # "he" ends at 0.2, but its deadline counts from 0.0 + SPLIT_ALLOWANCE
    assert policy.is_due(spoken, now)
    assert not policy.is_due(spoken, now - 0.03)
    assert policy.find_pause(spoken, now) == 0.5  # "an"→"ill" is too recent to cut at
    assert policy.choose_cut(spoken, now + 1.0) == 1.1


def test_no_deadline_settings_never_commit_early() -> None:
    # (batch.NO_DEADLINE being infinite is asserted in test_batch.py)
    assert not CommitPolicy(math.inf).is_due(words(("a", 0.0, 0.1)), 1e6)


# --------------------------------------------------------------------------- the budget


@pytest.mark.parametrize(
    ("max_delay", "budget", "context"),
    [(0.7, 0.55, 0.275), (2.0, 1.85, 0.925), (4.0, 3.85, MAX_STABLE_CONTEXT)],
)
def test_budget_keeps_a_safety_margin_and_context_is_half_of_it_capped(
    max_delay: float, budget: float, context: float
) -> None:
    policy = CommitPolicy(max_delay)
    assert policy.budget == pytest.approx(budget)
    assert policy.budget == pytest.approx(max_delay - SAFETY_MARGIN)
    assert policy.stable_context == pytest.approx(context)


# ----------------------------------------------------------------------------- is_due


def test_nothing_pending_is_never_due() -> None:
    assert not CommitPolicy(0.7).is_due([], 100.0)
    assert not CommitPolicy(0.7, "flexible").is_due((), 100.0)


def test_a_short_word_is_due_one_check_before_its_end_plus_the_budget() -> None:
    policy = CommitPolicy(1.0)  # budget 0.85
    pending = words(("a", 1.0, 1.1))  # ends before start + SPLIT_ALLOWANCE
    due_at = 1.1 + policy.budget - CHECK_INTERVAL  # 1.92
    assert not policy.is_due(pending, due_at - EPS)
    assert policy.is_due(pending, due_at + EPS)
    assert policy.is_due(pending, due_at + 10.0)  # and stays due


def test_a_long_words_deadline_counts_from_shortly_after_its_start() -> None:
    # The bestpath search may split it, so a final can end before it does.
    policy = CommitPolicy(1.0)
    pending = words(("homeless", 1.0, 1.6))
    due_at = 1.0 + SPLIT_ALLOWANCE + policy.budget - CHECK_INTERVAL  # 1.97, not 2.42
    assert not policy.is_due(pending, due_at - EPS)
    assert policy.is_due(pending, due_at + EPS)


def test_only_the_oldest_pending_word_sets_the_deadline() -> None:
    policy = CommitPolicy(1.0)
    oldest = words(("a", 1.0, 1.1))
    more = [*oldest, *words(("b", 1.1, 1.5), ("c", 1.5, 1.9))]
    for now in (1.9, 1.915, 1.925, 2.5):
        assert policy.is_due(more, now) == policy.is_due(oldest, now), now


def test_a_smaller_max_delay_is_due_sooner() -> None:
    pending = words(("a", 1.0, 1.1))
    first_due = {
        d: next(t / 1000 for t in range(1000, 10000) if CommitPolicy(d).is_due(pending, t / 1000))
        for d in (0.7, 1.0, 2.0, 4.0)
    }
    assert list(first_due.values()) == sorted(first_due.values())
    for d, t in first_due.items():
        # committed before max_delay has passed since the word ended, by about the margin
        assert 1.1 + d - SAFETY_MARGIN - CHECK_INTERVAL <= t + 1e-9 < 1.1 + d, (d, t)


# ----------------------------------------------------------------------- can_redecode


def test_redecoding_always_fits_with_nothing_pending_or_no_deadline() -> None:
    assert CommitPolicy(0.7).can_redecode([], 50.0, 1000.0)
    assert CommitPolicy(math.inf).can_redecode(words(("a", 0.0, 0.1)), 1e6, 1e6)


def test_redecoding_fits_while_its_assumed_cost_leaves_the_deadline_met() -> None:
    policy = CommitPolicy(2.0)  # budget 1.85
    pending = words(("a", 1.0, 1.1))
    # At 1.5 s: 0.43 s of the budget spent, 1.42 s left = 7.1 s of audio at RTF 0.2.
    left = policy.budget - (1.5 + CHECK_INTERVAL - 1.1)
    assert left / ASSUMED_DECODING_RTF == pytest.approx(7.1)
    assert policy.can_redecode(pending, 1.5, 7.0)
    assert not policy.can_redecode(pending, 1.5, 7.2)
    # One second later the same re-decoding no longer fits (2.1 s would).
    assert not policy.can_redecode(pending, 2.5, 7.0)
    assert policy.can_redecode(pending, 2.5, 2.0)
    assert not policy.can_redecode(pending, 2.5, 2.2)


# -------------------------------------------------------------------------- due_words


def test_due_words_are_those_past_their_deadline_and_at_least_the_oldest() -> None:
    policy = CommitPolicy(1.0)  # budget 0.85
    pending = words(("a", 0.0, 0.2), ("b", 0.3, 0.5), ("c", 0.6, 0.9))
    assert policy.due_words([], 5.0) == ()
    assert policy.due_words(pending, 0.5) == tuple(pending[:1])  # none late yet: the oldest
    assert policy.due_words(pending, 1.5) == tuple(pending[:2])  # late: ends ≤ 0.68
    assert policy.due_words(pending, 1.8) == tuple(pending)  # ends ≤ 0.98


# ------------------------------------------------------------------------- find_pause


def test_no_pause_in_fluent_speech() -> None:
    assert CommitPolicy(2.0).find_pause(FLUENT, 1.98) is None
    assert CommitPolicy(2.0).find_pause([], 1.98) is None


def test_a_pause_is_a_gap_of_at_least_min_silence() -> None:
    policy = CommitPolicy(2.0)  # stable context 0.925: at now 2.0 the reach is 1.075
    long_gap = words(("a", 0.0, 0.5), ("b", 0.625, 1.5))  # 0.125 s
    short_gap = words(("a", 0.0, 0.5), ("b", 0.5625, 1.5))  # 0.0625 s
    assert policy.find_pause(long_gap, 2.0) == 0.5
    assert policy.find_pause(short_gap, 2.0) is None


def test_silence_after_the_last_word_is_a_pause_once_enough_audio_follows() -> None:
    policy = CommitPolicy(2.0)  # stable context 0.925
    spoken = words(("he", 0.0, 0.2), ("was", 0.2, 0.5), ("not", 0.8, 1.0))
    reachable = 1.0 + policy.stable_context  # 1.925
    assert policy.find_pause(spoken, reachable - EPS) == 0.5  # "not" is still too recent
    assert policy.find_pause(spoken, reachable + EPS) == 1.0


def test_a_pause_before_the_due_words_does_not_count() -> None:
    policy = CommitPolicy(1.0)  # budget 0.85, stable context 0.425
    spoken = words(("a", 0.0, 0.2), ("b", 0.4, 0.6), ("c", 0.6, 0.9), ("d", 0.9, 3.0))
    now = 1.5  # due: ends ≤ 0.68 → a, b; the pause after "a" is before them
    assert policy.due_words(spoken, now) == tuple(spoken[:2])
    assert policy.find_pause(spoken, now) is None


# ------------------------------------------------------------------------- choose_cut


def test_without_words_the_cut_is_now() -> None:
    assert CommitPolicy(2.0).choose_cut([], 3.5) == 3.5


def test_without_a_pause_the_cut_is_the_latest_word_end_with_enough_context() -> None:
    # due: ends ≤ 0.68 (a, b); reach 2.5 - 0.925 = 1.575 → "d" ends at 1.2
    assert CommitPolicy(2.0).choose_cut(FLUENT, 2.5) == 1.2


def test_the_cut_covers_the_oldest_word_even_without_right_context() -> None:
    spoken = words(("homeless", 0.0, 1.6))
    assert CommitPolicy(2.0).choose_cut(spoken, 1.7) == 1.6


# ---------------------------------------------------------------------- flexible mode


NUMBER_SENTENCE = words(
    ("he", 0.0, 0.2), ("was", 0.2, 0.4), ("thirty", 0.4, 0.7), ("five", 0.7, 1.0),
    ("then", 1.0, 1.3), ("left", 1.3, 2.5),
)  # fmt: skip


def test_number_words_are_recognised_whatever_the_case() -> None:
    assert all(is_number_word(w) for w in ("thirty", "Five", "HUNDRED", "percent", "first"))
    assert not any(is_number_word(w) for w in ("dirty", "he", "fiver", ""))


def test_flexible_cut_never_splits_a_number() -> None:
    now = 1.85  # reach 0.925: the latest word end in reach is "thirty" (0.7)
    assert CommitPolicy(2.0, "fixed").choose_cut(NUMBER_SENTENCE, now) == 0.7
    assert CommitPolicy(2.0, "flexible").choose_cut(NUMBER_SENTENCE, now) == 0.4


def test_flexible_cut_covers_a_whole_number_that_is_due() -> None:
    # max_delay 0.7 (budget 0.55, context 0.275) at 1.25: "thirty" is due (ends ≤ 0.73),
    # nothing past it is in reach (0.975). Fixed cuts after it; flexible after "five".
    now = 1.25
    assert CommitPolicy(0.7, "fixed").choose_cut(NUMBER_SENTENCE, now) == 0.7
    assert CommitPolicy(0.7, "flexible").choose_cut(NUMBER_SENTENCE, now) == 1.0
    assert CommitPolicy(0.7, "flexible").due_words(NUMBER_SENTENCE, now) == tuple(
        NUMBER_SENTENCE[:4]
    )


def test_flexible_hold_is_bounded_and_only_for_a_number_in_progress() -> None:
    flexible = CommitPolicy(1.0, "flexible")
    number = words(("thirty", 1.0, 1.3), ("five", 1.3, 1.6))
    due_at = 1.0 + SPLIT_ALLOWANCE + flexible.budget - CHECK_INTERVAL
    assert CommitPolicy(1.0, "fixed").is_due(number, due_at + EPS)
    assert not flexible.is_due(number, due_at + FLEXIBLE_HOLD - EPS)
    assert flexible.is_due(number, due_at + FLEXIBLE_HOLD + EPS)
    # A word before the number is not held: only a number still being spoken is.
    words_first = words(("the", 1.0, 1.1), ("thirty", 1.1, 1.4))
    assert flexible.is_due(words_first, 1.1 + flexible.budget - CHECK_INTERVAL + EPS)
