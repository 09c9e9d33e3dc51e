"""Latency, accuracy and stability metrics: pure functions of recorded sessions.

Everything here is recomputable offline from ``messages.jsonl`` logs (plus reference
transcripts/timings): nothing talks to a server, and an import-linter contract forbids importing
``smnb.session``, websockets or asyncio from this package.

* :func:`analyse` — every metric of one session (:class:`SessionMetrics`).
* :func:`tabulate` / :func:`summarise` / :func:`displayed_wer` — many sessions → long
  tables → one row per setting.
* :class:`Reference` — reference text and word timings (``<audio>.txt``,
  ``<audio>.words.json``).
* :mod:`~smnb.metrics.normalise` — the pinned text normaliser (name + version recorded).
* :func:`final_cadence` — how steadily ``AddTranscript`` messages come, in audio time.
* :mod:`~smnb.metrics.stats` — quantiles (``q`` in 0–1, numpy ``linear``) and the file bootstrap.

Definitions are in each module's docstring and in ``docs/experiments.md``.
"""

from __future__ import annotations

from smnb.metrics.accuracy import Score, pooled, score, score_words, wer_interval
from smnb.metrics.cadence import Cadence, final_cadence
from smnb.metrics.latency import LATENCY_COLUMNS
from smnb.metrics.reference import Reference, RefWord, align
from smnb.metrics.session import SessionMetrics, analyse
from smnb.metrics.stability import DEFAULT_LAGS, displayed_errors, stability
from smnb.metrics.stats import QUANTILE_METHOD, bootstrap_ci, bootstrap_ratio_ci, quantile
from smnb.metrics.summary import Tables, displayed_wer, summarise, tabulate
from smnb.metrics.tracks import Tracks, build_tracks, prefix_align

__all__ = [
    "DEFAULT_LAGS",
    "LATENCY_COLUMNS",
    "QUANTILE_METHOD",
    "Cadence",
    "RefWord",
    "Reference",
    "Score",
    "SessionMetrics",
    "Tables",
    "Tracks",
    "align",
    "analyse",
    "bootstrap_ci",
    "bootstrap_ratio_ci",
    "build_tracks",
    "displayed_errors",
    "displayed_wer",
    "final_cadence",
    "pooled",
    "prefix_align",
    "quantile",
    "score",
    "score_words",
    "stability",
    "summarise",
    "tabulate",
    "wer_interval",
]
