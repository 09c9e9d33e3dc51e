"""Output checks for the experiment notebooks (03 latency, 04 accuracy).

Register them in ``CHECKS`` of ``tests/notebooks/test_notebooks.py``::

    from tests.notebooks.experiment_checks import CHECKS as EXPERIMENT_CHECKS
    CHECKS.update(EXPERIMENT_CHECKS)

Each notebook ends with a cell of its own asserts (it fails the run if they fail); these
checks confirm from the outside that the notebook showed and wrote what it claims.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from tests.notebooks.cells import cell_with as _cell
from tests.notebooks.cells import text_of as _text


def _images(cell: Any) -> int:
    return sum(
        1
        for out in cell.outputs
        if out.output_type in ("execute_result", "display_data") and "image/png" in out.data
    )


def check_latency_vs_max_delay(nb: Any, cwd: Path) -> None:
    out = cwd / "out" / "03-latency"
    assert "embedded local server" in _text(_cell(nb, "TARGET ="))
    streams = _text(_cell(nb, "Reference.for_audio(f)"))
    assert "stream-a: 30 words" in streams and "stream-b: 41 words" in streams, streams
    assert "<table" in _text(_cell(nb, "result.summary[columns]"))
    assert _images(_cell(nb, "result.plot_ecdf(ax=left)")) == 1
    assert _images(_cell(nb, "result.plot_timeline(")) == 1
    assert "final_latency_s" in _text(_cell(nb, "result.latency[word_columns]"))
    checks = _text(_cell(nb, "# Checks"))
    pattern = r"checks passed: final p50 by max_delay \{1\.0: [\d.]+, 2\.0: [\d.]+, 4\.0: [\d.]+\}"
    assert re.search(pattern, checks), checks
    summary = pd.read_csv(out / "summary.csv")
    assert summary["max_delay"].tolist() == [1.0, 2.0, 4.0]
    assert summary["final_p50"].iloc[0] < summary["final_p50"].iloc[-1]
    for name in ("latency.csv", "manifest.json", "latency_ecdf.png", "timeline.png"):
        assert (out / name).is_file(), name
    assert len(list((out / "sessions").glob("*/messages.jsonl"))) == 9  # 6 + 3 warm-ups


def check_accuracy(nb: Any, cwd: Path) -> None:
    out = cwd / "out" / "04-accuracy"
    assert "whisper-english" in _text(_cell(nb, "normalise.describe()"))
    assert "'mister dashwood paid $20'" in _text(_cell(nb, "normalise.describe()"))
    assert "<table" in _text(_cell(nb, "result.summary[columns]"))
    assert _images(_cell(nb, "result.plot_tradeoff(ax=left)")) == 1
    assert "equal" in _text(_cell(nb, "align(ref_words, hyp_words)"))
    checks = _text(_cell(nb, "# Checks"))
    assert "checks passed: WER by max_delay" in checks, checks
    summary = pd.read_csv(out / "summary.csv")
    assert (summary["wer"] >= 0).all()
    assert (out / "tradeoff.png").is_file() and (out / "displayed_wer.png").is_file()


CHECKS: dict[str, Callable[[Any, Path], None]] = {
    "03-latency-vs-max-delay.ipynb": check_latency_vs_max_delay,
    "04-accuracy.ipynb": check_accuracy,
}
