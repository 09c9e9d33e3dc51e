"""Metrics, plots and the experiment analysis never reach the transport or asyncio.

Uses the import-closure checker of ``tests/test_layers.py`` (every import, read with
ast, followed transitively through smnb modules).
"""

from __future__ import annotations

import pytest

from tests.test_layers import closure, modules_under

RUNNER = {"smnb.experiment.runner", "smnb.experiment.sessions"}
ANALYSIS = [
    *modules_under("smnb.metrics"),
    *(m for m in modules_under("smnb.experiment") if m not in RUNNER),
    "smnb.plots",
]
FORBIDDEN_EXTERNAL = {"asyncio", "websockets"}
FORBIDDEN_SMNB = {"smnb.client", "smnb.api", *RUNNER}


@pytest.mark.parametrize("module", ANALYSIS)
def test_analysis_is_pure(module: str) -> None:
    reached, external = closure(module)
    assert not external & FORBIDDEN_EXTERNAL, f"{module} reaches {external & FORBIDDEN_EXTERNAL}"
    assert not reached & FORBIDDEN_SMNB, f"{module} reaches {reached & FORBIDDEN_SMNB}"


def test_the_runner_is_the_one_place_that_reaches_the_client() -> None:
    reached, external = closure("smnb.experiment.runner")
    assert "asyncio" in external
    assert "smnb.api" in reached
