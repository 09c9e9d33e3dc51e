"""Partial stability and displayed-text accuracy over time.

Stability compares the partials with the session's own finals (no reference needed);
slots and the partial→slot mapping are defined in :mod:`smnb.metrics.tracks`.

* **revisions** of a final word: how many times its displayed text changed, over the
  sequence (text in each partial that showed it …, final text). A word first seen in
  its final, or shown identically all along, has 0.
* **UPWR** (unstable partial word ratio): final words with at least one revision ÷ final
  words. Equivalently: words some partial showed differently from the final.
* **revisions_per_word**: total revisions ÷ final words.
* Phantom words (shown in a partial, never finalised) are not part of either ratio; they
  are kept per partial in :class:`~smnb.metrics.tracks.PartialView`.

**Displayed-text WER at lag τ** (needs a reference): for every reference word *i* with
anchor end ``a_i``, look at what the viewer saw for it at ``a_i + τ``: the final if it had
arrived, otherwise the current partial's text for that word, otherwise nothing. A word is
an error when nothing or different text was shown (a word the finals dropped is an error
at every τ). Words the finals inserted count as errors from ``τ ≥ r_F − end_time``. The
rate is ``errors / N``; as τ grows it converges to the final WER. Insertions that only
ever existed in partials are not counted.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from smnb.metrics.reference import align
from smnb.metrics.tracks import Tracks

DEFAULT_LAGS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
"""Lags τ (seconds) at which displayed-text WER is evaluated by default."""


def stability(tracks: Sequence[Tracks]) -> dict[str, float]:
    """``n_final_words``, ``n_unstable``, ``n_revisions``, ``upwr``, ``revisions_per_word``."""
    n = unstable = revisions = 0
    for track in tracks:
        for slot in range(len(track.finals)):
            r = track.revisions(slot)
            n += 1
            revisions += r
            unstable += r > 0
    return {
        "n_final_words": float(n),
        "n_unstable": float(unstable),
        "n_revisions": float(revisions),
        "upwr": unstable / n if n else math.nan,
        "revisions_per_word": revisions / n if n else math.nan,
    }


def displayed_errors(
    track: Tracks,
    ref_words: Sequence[str],
    ref_spans: Sequence[tuple[float, float]] | None = None,
    lags: Sequence[float] = DEFAULT_LAGS,
) -> pd.DataFrame:
    """Errors of the displayed text at each lag: columns ``lag_s, errors, n_ref``."""
    spans = ref_spans or [(math.nan, math.nan)] * len(ref_words)
    # ref index -> (slot or None, anchor end); inserted final words -> their own lag
    placed: list[tuple[int | None, float, str]] = []
    insert_lags: list[float] = []
    for _op, i, j in align(ref_words, [tok.text for tok in track.finals]):
        if i is None:
            assert j is not None
            tok = track.finals[j]
            insert_lags.append(tok.received_s - tok.end)
            continue
        end = spans[i][1]
        if not math.isfinite(end) and j is not None:
            end = track.finals[j].end
        placed.append((j, end, ref_words[i]))
    rows = []
    for lag in lags:
        errors = 0
        for slot, end, word in placed:
            shown = None
            if slot is not None and math.isfinite(end):
                shown = track.displayed(slot, end + lag)
            errors += shown != word
        errors += sum(x <= lag for x in insert_lags)
        rows.append({"lag_s": float(lag), "errors": errors, "n_ref": len(ref_words)})
    return pd.DataFrame(rows, columns=["lag_s", "errors", "n_ref"]).astype(
        {"lag_s": "float64", "errors": "int64", "n_ref": "int64"}
    )
