"""Experiments over many sessions: planning, outcomes and the analysed SweepResult.

The runner that actually opens sessions is :mod:`smnb.experiment.runner` (``sweep``,
``asweep``) with :mod:`smnb.experiment.sessions`: the two modules that import asyncio and
the client. Everything else here (plan, inputs, outcome, result, stitch) is pure, so a
sweep directory can be re-analysed offline; this ``__init__`` does not import the runner.

The pure modules must not import asyncio, websockets or smnb.session.
"""

from __future__ import annotations

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
