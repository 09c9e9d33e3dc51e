"""Experiments over many sessions: planning, outcomes and the analysed SweepResult.

The runner that actually opens sessions is :mod:`smnb.experiment.runner` (``sweep``,
``asweep``) with :mod:`smnb.experiment.sessions`: the two modules that import asyncio and
the client. Everything else here (plan, inputs, outcome, result, stitch) is pure, so a
sweep directory can be re-analysed offline; this ``__init__`` does not import the runner
(``smnb.experiment.runner`` loads on first attribute access).

The pure modules must not import asyncio, websockets or smnb.session.
"""

from __future__ import annotations

import importlib
from typing import Any

from smnb.experiment.outcome import FAILED, OK, WARMUP, SessionOutcome, result_of
from smnb.experiment.plan import DEFAULT_CONFIG, SessionSpec, grid, plan, split_fields
from smnb.experiment.result import SweepResult
from smnb.experiment.stitch import stitch

__all__ = [
    "DEFAULT_CONFIG",
    "FAILED",
    "OK",
    "WARMUP",
    "SessionOutcome",
    "SessionSpec",
    "SweepResult",
    "grid",
    "plan",
    "result_of",
    "split_fields",
    "stitch",
]

_RUNNER_MODULES = frozenset({"runner", "sessions"})


def __getattr__(name: str) -> Any:
    # The runner imports asyncio and the client: loaded when asked for, never by the analysis.
    if name in _RUNNER_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
