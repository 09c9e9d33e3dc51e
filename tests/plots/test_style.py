"""The shared style: palette contrast, setting groups in order, their labels and colours."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from smnb import plots
from smnb.plots import style


def _contrast_on_white(hex_colour: str) -> float:
    """WCAG 2 contrast ratio of a colour against white."""
    from matplotlib.colors import to_rgb

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in to_rgb(hex_colour))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def test_palette_keeps_contrast_for_the_first_settings() -> None:
    # The first four settings (every notebook sweep) draw in colours of ≥ 3:1 contrast
    # on white (WCAG's threshold for graphics), all distinct.
    first = [plots.colour(k) for k in range(4)]
    assert len(set(first)) == 4
    assert all(_contrast_on_white(c) >= 3.0 for c in first), [
        (c, round(_contrast_on_white(c), 2)) for c in first
    ]


def test_settings_come_in_sorted_order_each_with_its_colour_and_label() -> None:
    frame = pd.DataFrame({
        "max_delay": [2.0, 1.0, 2.0, 0.7],
        "pace": ["fast", "fast", "fast", "real"],
        "x": [1, 2, 3, 4],
    })  # fmt: skip
    keys = style.setting_keys(["max_delay", "pace"])
    groups = style.by_setting(frame, keys)
    assert [key for key, _, _ in groups] == [(0.7, "real"), (1.0, "fast"), (2.0, "fast")]
    assert [part["x"].tolist() for _, part, _ in groups] == [[4], [2], [1, 3]]
    assert [hue for _, _, hue in groups] == [style.colour(k) for k in range(3)]
    assert [style.setting_label(keys, key) for key, _, _ in groups] == [
        "max_delay=0.7, pace=real", "max_delay=1, pace=fast", "max_delay=2, pace=fast",
    ]  # fmt: skip
    (key, _, _), *_ = style.by_setting(frame, style.setting_keys("max_delay"))
    assert key == (0.7,)  # one column: still a tuple key
    assert style.by_setting(frame.iloc[:0], keys) == []
    assert style.colour(len(style.PALETTE)) == style.PALETTE[0]  # cycles


def test_given_axes_are_used_and_none_makes_a_figure() -> None:
    ax = Figure().subplots()
    assert style.axes_or_new(ax) is ax
    new = style.axes_or_new(None)
    assert new is not ax and new.figure in [plt.figure(n) for n in plt.get_fignums()]
