"""smnb.plots, the package: its figures never show(), and its names are the modules' own."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from smnb import plots
from smnb.metrics import analyse
from tests.support.plots import tables
from tests.support.scenarios import REF_B, scenario_b


def test_plots_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("show() was called"))
    t = tables()
    plots.latency_ecdf(t.latency)
    plots.latency_box(t.latency)
    plots.timeline(analyse(scenario_b(), REF_B))


def test_each_public_name_is_its_modules_own() -> None:
    from smnb.plots import accuracy, latency, stream, style

    assert list(plots.__all__) == sorted(plots.__all__)
    homes = {
        "latency_ecdf": latency, "latency_box": latency, "tradeoff": accuracy,
        "displayed_wer": accuracy, "timeline": stream, "MAX_WORD_LABELS": stream,
        "colour": style, "PALETTE": style, "PARTIAL_COLOUR": style, "LABEL_SIZE": style,
    }  # fmt: skip
    assert set(homes) == set(plots.__all__)
    for name, module in homes.items():
        assert getattr(plots, name) is getattr(module, name), name
