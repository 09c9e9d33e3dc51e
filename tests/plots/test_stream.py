"""The timeline of one stream draws each word's first partial, revisions and final."""

from __future__ import annotations

from smnb import plots
from smnb.metrics import analyse
from tests.support.plots import new_ax
from tests.support.scenarios import REF_A, scenario_a


def test_timeline_markers() -> None:
    m = analyse(scenario_a(), REF_A)
    ax = plots.timeline(m, ax=new_ax())
    lines = ax.get_lines()
    hollow = [ln for ln in lines if ln.get_marker() == "o" and ln.get_markerfacecolor() == "none"]
    crosses = [ln for ln in lines if ln.get_marker() == "x" and len(ln.get_xdata())]
    # five words had a first partial ("young" never did); one partial revision (wash -> was).
    assert len([ln for ln in hollow if len(ln.get_xdata())]) == 5
    assert [list(ln.get_xdata()) for ln in crosses] == [[1.2]]
    assert [t.get_text() for t in ax.texts] == ["he", "was", "knot", "young", "man", "today"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "y = x − max_delay (1 s)" in legend and "EndOfUtterance" in legend


def test_timeline_until_keeps_what_is_drawn_in_view_and_defines_t0() -> None:
    m = analyse(scenario_a(), REF_A)
    ax = plots.timeline(m, ax=new_ax(), until=1.0)
    assert [t.get_text() for t in ax.texts] == ["he", "was", "knot"]
    right = ax.get_xlim()[1]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # EndOfStream (2.5 s) and the EndOfUtterance (2.9 s) lie beyond the last shown final.
    assert right < 2.5 and "EndOfStream sent" not in legend and "EndOfUtterance" not in legend
    assert "t0" in ax.get_xlabel()
    assert all(t.get_fontsize() >= 9 for t in ax.texts)
