"""Plot tests draw with the Agg backend and close every pyplot figure they made."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures() -> object:
    yield
    plt.close("all")
