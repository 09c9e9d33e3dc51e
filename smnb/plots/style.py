"""What every smnb figure shares: its colours, its text size, and settings as groups.

A sweep's table has one row group per setting (the ``by`` columns, ``max_delay`` by
default); :func:`by_setting` splits a table into them in sorted order, each with its colour,
so a setting keeps its colour across the figures of one sweep. Colours: the Okabe–Ito
palette (safe for the common colour-vision deficiencies), in an order whose first four
colours keep at least 3:1 contrast on white.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from matplotlib.axes import Axes

PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#E69F00",  # orange (low contrast on white: only from the sixth setting on)
    "#56B4E9",  # sky blue
)
"""Okabe & Ito (2008), "Color Universal Design": one colour per setting, in this order."""
PARTIAL_COLOUR = "0.35"
LABEL_SIZE = 9
"""Word labels and annotations: readable when a two-panel figure fills a notebook column."""


def colour(k: int) -> str:
    """The colour of the ``k``-th setting (0-based), cycling through :data:`PALETTE`."""
    return PALETTE[k % len(PALETTE)]


def axes_or_new(ax: Axes | None) -> Axes:
    """``ax``, or the axes of a new figure (pyplot is imported only then)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only when we must create a figure

    _, new = plt.subplots()
    return new


def setting_keys(by: str | Sequence[str]) -> list[str]:
    """The columns that name a setting, as a list."""
    return [by] if isinstance(by, str) else list(by)


def setting_label(keys: Sequence[str], values: tuple[Any, ...]) -> str:
    """``max_delay=1, pace=fast``: one setting as a legend or tick label."""
    return ", ".join(f"{k}={value_text(v)}" for k, v in zip(keys, values, strict=True))


def value_text(value: Any) -> str:
    """A setting's value as text, whole floats without their ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def by_setting(
    frame: pd.DataFrame, by: Sequence[str]
) -> list[tuple[tuple[Any, ...], pd.DataFrame, str]]:
    """(key, rows, colour) per setting, in sorted order."""
    if frame.empty:
        return []
    groups = list(frame.groupby(list(by), sort=True, dropna=False, observed=True))
    return [
        (key if isinstance(key, tuple) else (key,), part, colour(k))
        for k, (key, part) in enumerate(groups)
    ]
