"""smnb.clock: the default monotonic clock and the ManualClock tests inject."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from smnb.clock import ManualClock, monotonic


def test_the_default_clock_is_monotonic_and_counts_seconds() -> None:
    readings = [monotonic() for _ in range(1000)]
    assert readings == sorted(readings)
    before = monotonic()
    time.sleep(0.05)
    elapsed = monotonic() - before
    assert 0.04 <= elapsed < 1.0  # seconds, not ms or ns


def test_a_manual_clock_stands_still_until_told() -> None:
    clock = ManualClock(12.5)
    assert clock() == clock() == 12.5
    assert ManualClock()() == 0.0


def test_advance_and_set_move_it_forward_exactly() -> None:
    clock = ManualClock(100.0)
    clock.advance(0.25)
    assert clock() == 100.25
    clock.advance(0)
    assert clock() == 100.25
    clock.set(101.0)
    assert clock() == 101.0
    clock.set(101.0)  # setting the present is not going back
    assert clock.now == 101.0


@pytest.mark.parametrize(
    "move", [lambda c: c.advance(-0.001), lambda c: c.set(9.0)], ids=["advance", "set"]
)
def test_it_never_goes_back(move: Callable[[ManualClock], None]) -> None:
    clock = ManualClock(10.0)
    with pytest.raises(ValueError, match="cannot go back"):
        move(clock)
    assert clock() == 10.0  # a refused move changes nothing
