"""The clips every sweep test uses (copied, so nothing touches the package)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.sweeps import copy_clips


@pytest.fixture
def clips(tmp_path: Path) -> list[Path]:
    return copy_clips(tmp_path)
