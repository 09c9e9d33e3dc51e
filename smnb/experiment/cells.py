"""How a sweep's summary values read in its display table: "–" for what was not measured.

Stdlib only.
"""

from __future__ import annotations

import math
from typing import Any

from smnb.protocol.config import DEFAULT_MAX_DELAY


def setting(value: Any) -> str:
    """A setting's value: whole floats without ``.0``, an unset ``max_delay`` as the default."""
    if isinstance(value, float) and math.isnan(value):  # max_delay left to the API
        return f"{DEFAULT_MAX_DELAY:g} (default)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def seconds(value: Any) -> str:
    return number(value, 2)


def number(value: Any, digits: int) -> str:
    return "–" if value is None or not math.isfinite(float(value)) else f"{float(value):.{digits}f}"


def count(value: Any) -> str:
    return "–" if value is None or not math.isfinite(float(value)) else str(int(value))


def share(value: Any) -> str:
    return "–" if value is None or not math.isfinite(float(value)) else f"{float(value):.0%}"


def interval(low: Any, high: Any) -> str:
    if not (math.isfinite(float(low)) and math.isfinite(float(high))):
        return "–"
    return f"{float(low):.3f}–{float(high):.3f}"
