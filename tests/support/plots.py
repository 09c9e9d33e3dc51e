"""Tables and axes shared by the plot tests (tests/plots/)."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from smnb.metrics import analyse, tabulate
from smnb.metrics.summary import Tables
from tests.support.scenarios import REF_A, REF_B, scenario_a, scenario_b


def tables() -> Tables:
    """Scenarios A and B at max_delay 1 and 2: two settings of two sessions each."""
    entries = []
    for md in (1.0, 2.0):
        for sid, rec, ref in (("a", scenario_a(md), REF_A), ("b", scenario_b(md), REF_B)):
            info = {"session_id": f"{sid}{md}", "file": sid, "repeat": 0, "max_delay": md}
            entries.append((info, analyse(rec, ref)))
    return tabulate(entries, ["max_delay"])


def new_ax() -> Any:
    """Axes of a figure pyplot does not track (nothing to close)."""
    return Figure().subplots()
