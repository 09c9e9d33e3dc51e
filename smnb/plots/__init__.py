"""Matplotlib figures for latency and accuracy experiments.

Every function draws into ``ax`` (a new figure's axes when ``ax=None``), returns the
Axes, and never calls ``show()``: the notebook (or :meth:`Figure.savefig`) decides.
Inputs are the tables of :mod:`smnb.metrics` (``latency``, ``summary``, displayed-WER
curves) or one session's :class:`~smnb.metrics.session.SessionMetrics`.

* :func:`latency_ecdf` — ECDF of final latency per setting (solid) and of first-partial
  latency (dashed; pooled over settings by default), with each ``max_delay`` marked.
* :func:`latency_box` — final latency per setting: box, ``max_delay``, and p95.
* :func:`tradeoff` — WER (with CI) against final latency p50 (whisker to p90).
* :func:`timeline` — one stream: audio time against arrival time, with each word's first
  partial, revisions and final.
* :func:`displayed_wer` — displayed-text WER against lag τ per setting.

One module per kind of figure: :mod:`~smnb.plots.latency` (the first two),
:mod:`~smnb.plots.accuracy` (trade-off, displayed WER), :mod:`~smnb.plots.stream`
(timeline); :mod:`~smnb.plots.style` holds what they share (palette, settings as groups).

Colours: the Okabe–Ito palette (safe for the common colour-vision deficiencies), in an
order whose first four colours keep at least 3:1 contrast on white; every setting keeps
its colour across the figures of one sweep. Time axes are on the audio clock: ``t0`` is
the moment the first audio sample was (as if) spoken, so a word "is spoken" at its end
time (see ``docs/reading-the-numbers.md``).

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

from smnb.plots.accuracy import displayed_wer, tradeoff
from smnb.plots.latency import latency_box, latency_ecdf
from smnb.plots.stream import MAX_WORD_LABELS, timeline
from smnb.plots.style import LABEL_SIZE, PALETTE, PARTIAL_COLOUR, colour

__all__ = [
    "LABEL_SIZE",
    "MAX_WORD_LABELS",
    "PALETTE",
    "PARTIAL_COLOUR",
    "colour",
    "displayed_wer",
    "latency_box",
    "latency_ecdf",
    "timeline",
    "tradeoff",
]
