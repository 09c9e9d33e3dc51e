"""Per-word latency of one session, and the session-level latency measures.

Definitions (times are seconds on the audio clock, ``received_s = t − t0``, so a word
whose audio ends at ``end`` is "spoken" at ``received_s == end``):

* **final latency** ``L_F = r_F − a_end``: arrival of the ``AddTranscript`` holding the
  word minus the anchor end of the word.
* **partial latency** ``L_P = r_P − a_end``: arrival of the first partial that showed the
  word (see :mod:`smnb.metrics.tracks`); NaN if no partial ever showed it. Negative values
  (shown before the anchor end) are kept as they are, never clamped.
* **emission latency** ``min(r_P, r_F) − a_end``: first time the word was on screen at all.
* **finalisation lag** ``r_F − r_P``.
* **anchor** ``a_end``: the reference word's end from a forced alignment when the
  reference has timings (``anchor == "reference"``), otherwise the engine's own
  ``end_time`` of the final word (``anchor == "engine"``).
* Which words count (``counted``): with a reference, words aligned as ``equal`` or
  ``substitute`` (insertions and deletions are listed but not counted); without one,
  every final word (``op == "unscored"``). Punctuation is never a word.
* ``flushed``: the final arrived after the client sent ``EndOfStream``, so the end of the
  audio, not ``max_delay``, decided when it came. On clips not much longer than
  ``max_delay`` many words are flushed and final latency is capped by the clip's end.
* **TTFP** ``ttfp_s``: arrival of the first partial showing a counted word (stream based,
  from sample 0); ``ttfp_speech_s`` subtracts the speech onset (first anchor start).
* **End-of-utterance latency**: ``EndOfUtterance`` arrival minus the anchor end of the
  latest-spoken counted word finalised before it; an EOU with no new word finalised since
  the previous one is skipped.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from smnb.metrics.reference import align
from smnb.metrics.tracks import Tracks

LATENCY_COLUMNS = {
    "channel": "category",
    "ref_index": "Int64",
    "ref_word": "object",
    "hyp_word": "object",
    "op": "category",
    "anchor": "category",
    "word_start_s": "float64",
    "word_end_s": "float64",
    "hyp_start_s": "float64",
    "hyp_end_s": "float64",
    "partial_received_s": "float64",
    "final_received_s": "float64",
    "partial_latency_s": "float64",
    "final_latency_s": "float64",
    "emission_latency_s": "float64",
    "finalisation_lag_s": "float64",
    "n_partials": "Int64",
    "revisions": "Int64",
    "counted": "bool",
    "flushed": "bool",
}
"""Columns of the per-word latency table, in order, with their dtypes."""

NAN = math.nan


def _row(tracks: Tracks, slot: int | None) -> dict[str, Any]:
    """The hypothesis half of a row: the final word in ``slot`` and its partial history."""
    if slot is None:
        return {
            "hyp_word": None,
            "hyp_start_s": NAN,
            "hyp_end_s": NAN,
            "partial_received_s": NAN,
            "final_received_s": NAN,
            "n_partials": 0,
            "revisions": pd.NA,
        }
    tok = tracks.finals[slot]
    return {
        "hyp_word": tok.text,
        "hyp_start_s": tok.start,
        "hyp_end_s": tok.end,
        "partial_received_s": tracks.first_partial_s(slot),
        "final_received_s": tok.received_s,
        "n_partials": len(tracks.history[slot]),
        "revisions": tracks.revisions(slot),
    }


def word_rows(
    tracks: Tracks,
    ref_words: Sequence[str] | None = None,
    ref_spans: Sequence[tuple[float, float]] | None = None,
) -> list[dict[str, Any]]:
    """Rows of the latency table for one channel (without derived latency columns)."""
    rows: list[dict[str, Any]] = []
    if ref_words is None:
        for slot, tok in enumerate(tracks.finals):
            row = _row(tracks, slot)
            row.update(ref_index=pd.NA, ref_word=None, op="unscored", anchor="engine")
            row.update(word_start_s=tok.start, word_end_s=tok.end)
            rows.append(row)
        return rows
    spans = ref_spans or [(NAN, NAN)] * len(ref_words)
    for op, i, j in align(ref_words, [tok.text for tok in tracks.finals]):
        row = _row(tracks, j)
        start, end = spans[i] if i is not None else (NAN, NAN)
        if i is not None and math.isfinite(end):
            anchor = "reference"
        elif j is not None:
            anchor, start, end = "engine", row["hyp_start_s"], row["hyp_end_s"]
        else:
            anchor = None  # a deleted word without timings cannot be placed in time
        row.update(
            ref_index=pd.NA if i is None else i,
            ref_word=None if i is None else ref_words[i],
            op=op,
            anchor=anchor,
            word_start_s=start,
            word_end_s=end,
        )
        rows.append(row)
    return rows


_BASE = (
    "ref_index",
    "ref_word",
    "hyp_word",
    "op",
    "anchor",
    "word_start_s",
    "word_end_s",
    "hyp_start_s",
    "hyp_end_s",
    "partial_received_s",
    "final_received_s",
    "n_partials",
    "revisions",
)


def latency_frame(
    rows: list[dict[str, Any]],
    channel: str | None = None,
    *,
    end_of_stream_s: float = math.nan,
    timed: bool = True,
) -> pd.DataFrame:
    """Typed latency table from :func:`word_rows` output, with every derived column.

    ``end_of_stream_s`` is when ``EndOfStream`` was sent (``received_s`` clock), for ``flushed``.
    ``timed=False`` (audio sent faster than real time): arrival times are kept, but no
    latency is measured (every ``*_latency_s`` and ``finalisation_lag_s`` is NaN, nothing
    is ``flushed``); words still count for accuracy.
    """
    frame = pd.DataFrame({name: [r[name] for r in rows] for name in _BASE}, columns=list(_BASE))
    frame = frame.astype({name: LATENCY_COLUMNS[name] for name in _BASE})
    end = frame["word_end_s"]
    partial = frame["partial_received_s"]
    final = frame["final_received_s"]
    frame["channel"] = pd.Series([channel] * len(frame), dtype="object")
    frame["partial_latency_s"] = partial - end
    frame["final_latency_s"] = final - end
    frame["emission_latency_s"] = np.fmin(partial, final) - end
    frame["finalisation_lag_s"] = final - partial
    scored = frame["op"].astype("object").isin(["equal", "substitute", "unscored"])
    frame["counted"] = scored & np.isfinite(frame["final_latency_s"])
    frame["flushed"] = final >= end_of_stream_s  # False when there was no EndOfStream (NaN)
    if not timed:
        for name in ("partial_latency_s", "final_latency_s", "emission_latency_s"):
            frame[name] = np.nan
        frame["finalisation_lag_s"] = np.nan
        frame["flushed"] = False
    return frame[list(LATENCY_COLUMNS)].astype(LATENCY_COLUMNS)


def empty_latency_frame() -> pd.DataFrame:
    """A latency table with no rows but every column and dtype."""
    return latency_frame([])


def ttfp(latency: pd.DataFrame) -> tuple[float, float]:
    """(``ttfp_s``, ``ttfp_speech_s``) from a session's latency table."""
    counted = latency[latency["counted"]]
    first = counted["partial_received_s"].min()
    if not np.isfinite(first):
        return NAN, NAN
    placed = latency[latency["op"].astype("object") != "insert"]["word_start_s"]
    onset = placed.min()
    return float(first), float(first - onset) if np.isfinite(onset) else NAN


def eou_latencies(latency: pd.DataFrame, events: pd.DataFrame) -> list[float]:
    """End-of-utterance latency of each ``EndOfUtterance`` that followed new words."""
    eous = events[events["message"].astype("object") == "EndOfUtterance"]
    counted = latency[latency["counted"]]
    received = counted["final_received_s"].to_numpy(dtype=np.float64)
    ends = counted["word_end_s"].to_numpy(dtype=np.float64)
    out: list[float] = []
    done = 0  # words finalised before the previous EOU
    for t in sorted(eous["received_s"].astype("float64")):
        mask = received <= t
        n = int(mask.sum())
        if n > done:
            out.append(float(t - ends[mask].max()))
        done = max(done, n)
    return out
