"""The timeline of one stream: when each word was spoken, first shown, revised and final.

:func:`timeline` draws one session's (or one channel's) words on the audio clock: ``t0``
is the moment the first audio sample was (as if) spoken, so a word "is spoken" at its end
time (see ``docs/reading-the-numbers.md``). Input: a
:class:`~smnb.metrics.session.SessionMetrics` or its :class:`~smnb.metrics.tracks.Tracks`.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes

from smnb.metrics.session import SessionMetrics
from smnb.metrics.tracks import Tracks
from smnb.plots.style import LABEL_SIZE, PALETTE, axes_or_new, value_text

MAX_WORD_LABELS = 40
"""Streams with more final words than this are drawn without word labels."""


def timeline(
    session: SessionMetrics | Tracks,
    *,
    max_delay: float | None = None,
    channel: int = 0,
    until: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One stream: audio time (y) against arrival time since ``t0`` (x).

    ``t0`` is when the first audio sample was (as if) spoken, so a word is spoken at
    ``x = y =`` its end. Each final word is a grey bar from its start to its end at the
    height of its end (on the diagonal ``y = x``); ○ first partial, × each revision, ● the
    final. The horizontal distance from the diagonal is the latency. Dashed:
    ``y = x − max_delay``; dotted: when ``EndOfStream`` was sent (finals right of it came
    from the end-of-stream flush). ``until``: show only the words spoken in the first
    ``until`` seconds of audio.
    """
    ax = axes_or_new(ax)
    tracks = session if isinstance(session, Tracks) else session.tracks[channel]
    eous = [] if isinstance(session, Tracks) else session.eou_times
    eos = (
        math.nan if isinstance(session, Tracks) else session.stats.get("end_of_stream_s", math.nan)
    )
    if max_delay is None and isinstance(session, SessionMetrics):
        value = session.stats.get("max_delay")
        max_delay = value if isinstance(value, float) and math.isfinite(value) else None
    slots = [
        (slot, tok) for slot, tok in enumerate(tracks.finals) if until is None or tok.end <= until
    ]
    top_y = until if until is not None else max([tok.end for _, tok in slots] + [1.0])
    right = max([tok.received_s for _, tok in slots] + [top_y])
    if until is None:  # the whole stream: its last events too
        right = max([right, *(r for r, _ in eous), *([eos] if math.isfinite(eos) else [])])
    label_gap = top_y / 40  # labels closer than this (in audio time) would overlap
    last_label = -math.inf
    labelled: list[tuple[str, float]] = []  # (text, where its label ends on the x axis)
    for slot, tok in slots:
        ax.plot([tok.start, tok.end], [tok.end, tok.end], color="0.6", lw=3, solid_capstyle="butt")
        first = tracks.first_partial_s(slot)
        if math.isfinite(first):
            ax.plot([first], [tok.end], "o", mfc="none", color=PALETTE[0], ms=6, mew=1.3)
        revs = tracks.revision_times(slot)
        if revs:
            ax.plot(revs, [tok.end] * len(revs), "x", color=PALETTE[3], ms=6, mew=1.5)
        ax.plot([tok.received_s], [tok.end], "o", color="black", ms=5)
        if len(slots) <= MAX_WORD_LABELS and tok.end - last_label >= label_gap:
            # Left of the bar: above the diagonal, where no marker of a later word falls.
            ax.annotate(
                tok.text, (tok.start, tok.end), xytext=(-3, 0), textcoords="offset points",
                ha="right", va="center", fontsize=LABEL_SIZE,
            )  # fmt: skip
            last_label = tok.end
            labelled.append((tok.text, tok.start))
    for received, at in eous:
        if received <= right:
            ax.plot([received], [at], marker="|", color=PALETTE[2], ms=12, mew=2, ls="none")
    ax.plot([0, right], [0, right], color="0.3", lw=0.8, label="y = x (spoken)")
    if max_delay is not None and max_delay < right:
        ax.plot(
            [max_delay, right], [0, right - max_delay], "--", color=PALETTE[1], lw=1,
            label=f"y = x − max_delay ({value_text(max_delay)} s)",
        )  # fmt: skip
    if isinstance(eos, float) and math.isfinite(eos) and eos <= right + 0.3:  # inside the view
        # Finals right of this line were released by the end of the audio, not by max_delay.
        ax.axvline(eos, color="0.4", ls=":", lw=1.2, label="EndOfStream sent")
    # Proxy artists so the legend explains the markers once.
    ax.plot([], [], "o", mfc="none", color=PALETTE[0], mew=1.3, label="first partial")
    if any(tracks.revision_times(slot) for slot, _ in slots):
        ax.plot([], [], "x", color=PALETTE[3], mew=1.5, label="revision")
    ax.plot([], [], "o", color="black", ms=5, label="final")
    if any(received <= right for received, _ in eous):
        ax.plot([], [], "|", color=PALETTE[2], ms=12, mew=2, label="EndOfUtterance")
    xmax = right + 0.3
    room = _label_room(ax, labelled, xmax)
    ax.set_xlim(-room, xmax)
    if room:  # the room is for the first words' labels: no negative arrival times on the axis
        ax.set_xticks([t for t in ax.get_xticks() if 0 <= t <= xmax])
    ax.set_ylim(0, top_y + 0.2)
    ax.set_xlabel("arrival time (s after t0, the start of the audio)")
    ax.set_ylabel("audio time of the word's end (s)")
    ax.set_title("Timeline of one stream")
    ax.grid(True, alpha=0.3)
    # Lower right: below the diagonal and left of late finals, away from the word labels.
    ax.legend(fontsize="small", loc="lower right")
    return ax


def _label_room(ax: Axes, labelled: Sequence[tuple[str, float]], xmax: float) -> float:
    """How far left of 0 the x axis must start for right-aligned labels to fit (data units).

    A label of ``w`` points ending at ``x`` needs ``x − w · span / width ≥ xmin``, where
    ``span = xmax − xmin`` and ``width`` is the axes' width in points; solved for ``xmin``.
    The width of a character is estimated (0.6 em), so the room is generous, not exact.
    """
    width = ax.get_window_extent().width * 72 / ax.figure.dpi  # points
    room = 0.0
    for text, end in labelled:
        w = (0.6 * LABEL_SIZE * len(text) + 6) / width  # the label as a fraction of the axes
        if w < 1:
            room = max(room, (w * xmax - end) / (1 - w))
    return room
