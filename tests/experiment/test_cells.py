"""The display cells of a sweep's table: what was not measured reads "–", never "nan"."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smnb.experiment import cells
from smnb.protocol.config import DEFAULT_MAX_DELAY


def test_a_setting_reads_as_written_and_an_unset_max_delay_as_the_default() -> None:
    assert cells.setting(2.0) == "2"
    assert cells.setting(0.7) == "0.7"
    assert cells.setting("flexible") == "flexible"
    assert cells.setting(math.nan) == f"{DEFAULT_MAX_DELAY:g} (default)"


@pytest.mark.parametrize("missing", [None, math.nan, np.float64("nan"), math.inf])
def test_what_was_not_measured_is_a_dash(missing: object) -> None:
    assert cells.seconds(missing) == "–"
    assert cells.number(missing, 3) == "–"
    assert cells.count(missing) == "–"
    assert cells.share(missing) == "–"
    assert cells.interval(0.1, math.nan) == "–"


def test_measured_values_are_rounded_for_reading() -> None:
    assert cells.seconds(1.2345) == "1.23"
    assert cells.number(0.28351, 3) == "0.284"
    assert cells.count(np.int64(16)) == "16"
    assert cells.share(0.125) == "12%"
    assert cells.interval(0.2, 0.31234) == "0.200–0.312"
