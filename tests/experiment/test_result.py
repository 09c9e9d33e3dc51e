"""smnb.experiment.result: the saved sweep directory and the offline recompute."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

import smnb
import smnb.experiment.runner
import smnb.experiment.sessions
from smnb.experiment import SweepResult
from smnb.experiment.runner import asweep
from smnb.metrics import normalise
from tests.support.sweeps import CLIPS, fake_session


async def test_saved_directory_and_offline_recompute(clips: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = await asweep(clips, max_delay=[1, 2], run_session=fake_session, progress=False,
                     out=out, seed=3, n_resamples=100)  # fmt: skip
    for name in ("summary.csv", "latency.csv", "sessions.csv", "displayed_wer.csv", "eou.csv",
                 "manifest.json", "latency_ecdf.png", "latency_box.png", "tradeoff.png",
                 "timeline.png", "displayed_wer.png"):  # fmt: skip
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    digest = hashlib.sha256(clips[0].read_bytes()).hexdigest()
    assert manifest["files"][CLIPS[0]]["sha256"] == digest
    assert manifest["seeds"] == {"order": 3, "bootstrap": 0}
    assert manifest["normaliser"] == normalise.describe()
    assert manifest["swept"] == {"max_delay": [1, 2]}
    assert {"smnb", "python", "numpy", "pandas"} <= set(manifest["versions"])
    latency_rows = sum(1 for _ in (out / "latency.csv").open()) - 1
    assert latency_rows == len(r.latency) == 2 * 2 * 8
    # Everything is recomputable from the directory alone, and agrees.
    again = SweepResult.load(out)
    cols = ["max_delay", "n_words", "final_p50", "final_p95", "wer", "wer_ci_low"]
    # (the JSONL log stores times to the microsecond, hence the tolerance)
    pd.testing.assert_frame_equal(again.summary[cols], r.summary[cols], atol=1e-6)
    assert len(smnb.load(out)) == 7  # 4 sessions + 3 warm-ups, each a Result
