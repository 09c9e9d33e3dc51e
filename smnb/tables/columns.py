"""Column dtypes, value coercion and the one frame builder every table uses.

Every table is built the same way: walk the records once, append plain Python
values to one list per column, then turn each list into a typed array in a
single call. No row-by-row DataFrame work, and an empty session goes through
exactly the same path, so it gets the same columns and dtypes.

Imports pandas and numpy; never the transport (``smnb.session``, websockets).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from smnb.recorder import META, SENT, Record, Recorder

FLOAT: Final = "float64"
INT: Final = "Int64"  # nullable: absent seq_no/code stay <NA>, not a float NaN
CAT: Final = "category"
BOOL: Final = "boolean"  # nullable: is_eos is absent on words
OBJECT: Final = "object"
TEXT: Final = "str" if int(pd.__version__.split(".")[0]) >= 3 else "object"
"""Free text: pandas 3's ``str`` dtype, plain ``object`` on pandas 2."""

Schema = Mapping[str, str]
Records = Recorder | Iterable[Record]
"""What every table function accepts: a recorder (snapshotted) or records."""


def as_records(records: Records) -> list[Record]:
    """A list of records; a recorder is snapshotted, so a live session is safe to read."""
    if isinstance(records, Recorder):
        return records.snapshot()
    return records if isinstance(records, list) else list(records)


def audio_origin(records: Records) -> float | None:
    """The audio clock origin ``t0``: ``scheduled_t − audio_end`` of the first audio frame.

    ``None`` when no audio frame was sent (then every ``*_s`` column is NaN).
    """
    for rec in as_records(records):
        if rec.direction == SENT and rec.audio_end is not None and rec.scheduled_t is not None:
            return rec.scheduled_t - rec.audio_end
    return None


TIMED_PACES: Final = ("realtime", "live")
"""Paces at which audio goes out as it is (or would be) spoken, so latency means something."""


def is_timed(records: Records) -> bool:
    """False when the ``Session`` note says the audio went faster than real time.

    At ``pace="fast"`` no sample was "spoken" at any moment, so ``received_s − end_time``
    is no latency: the tables leave ``latency_s`` empty (NaN). Logs without the note
    (older or foreign recordings) count as timed.
    """
    for rec in as_records(records):
        if rec.direction == META and rec.type == "Session":
            pace = (rec.payload or {}).get("pace")
            return pace is None or pace in TIMED_PACES
    return True


def origin_or_nan(t0: float | None) -> float:
    """``t0`` as a float that makes every relative time NaN when there is no origin."""
    return math.nan if t0 is None else t0


def num(value: Any) -> float | None:
    """A JSON number as float, anything else as None (bool is not a number here)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def integer(value: Any) -> int | None:
    """A JSON integer, anything else as None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def label(value: Any) -> str | None:
    """A JSON string, anything else as None."""
    return value if isinstance(value, str) else None


def flag(value: Any) -> bool | None:
    """A JSON boolean, anything else as None."""
    return value if isinstance(value, bool) else None


def column(values: Sequence[Any] | np.ndarray[Any, Any], dtype: str) -> Any:
    """One typed array from a list of plain values (None means missing)."""
    if dtype == FLOAT:
        return np.asarray(values, dtype=np.float64)  # None becomes NaN
    if dtype == CAT:
        cat = pd.Categorical(values)
        if len(cat.categories) == 0:
            # All missing: keep text categories (not float), as a filled column would have,
            # so frames concat cleanly and survive a Parquet round trip.
            cat = pd.Categorical(values, categories=pd.Index([], dtype=TEXT))
        return cat
    if dtype == OBJECT:
        out = np.empty(len(values), dtype=object)  # element-wise: dicts must stay dicts
        for k, value in enumerate(values):
            out[k] = value
        return out
    return pd.array(values, dtype=dtype)  # type: ignore[call-overload]


def frame(data: Mapping[str, Sequence[Any] | np.ndarray[Any, Any]], schema: Schema) -> pd.DataFrame:
    """A DataFrame with exactly the schema's columns, in order, with its dtypes."""
    return pd.DataFrame({name: column(data[name], dtype) for name, dtype in schema.items()})


def relative(times: Sequence[float], t0: float) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Recorder times as seconds on the audio clock (``t − t0``)."""
    return np.asarray(times, dtype=np.float64) - t0
