"""Output checks for the experiment notebooks (03 latency, 04 accuracy).

Registered in ``CHECKS`` of ``tests/notebooks/test_notebooks.py``. The notebooks hold no
asserts: these checks read what they showed and the sweep directories they wrote, and
confirm every claim their text makes (the trailing silence prevents flushes, medians stay
within the bound, a recompute from disk agrees, intervals bracket the estimate, WER does
not get worse with more right context).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from smnb.experiment import SweepResult
from smnb.metrics import Reference
from tests.notebooks.cells import cell_with, images, text_of

WER_SLACK = 0.02
"""The largest max_delay may not have a WER higher than the smallest's by more than this."""


def _summary(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "summary.csv").set_index("max_delay")


def _wer_does_not_grow_with_max_delay(s: pd.DataFrame) -> None:
    low, high = s.index.min(), s.index.max()
    assert s.loc[high, "wer"] <= s.loc[low, "wer"] + WER_SLACK, s["wer"]


def check_latency_vs_max_delay(nb: Any, cwd: Path) -> None:
    out = cwd / "out" / "03-latency"
    streams = text_of(cell_with(nb, "Reference.for_audio(f)"))
    assert "embedded local server" in streams
    assert "stream-a: 30 words" in streams and "stream-b: 41 words" in streams, streams
    sweep = text_of(cell_with(nb, "result = await smnb.asweep("))
    # Progress and repr count the six measured sessions; the warm-ups are named apart.
    assert "sweep: 6/6 sessions done (+3 untimed warm-ups) · 0 failed" in sweep, sweep
    assert "<SweepResult: 6 measured sessions (+3 untimed warm-ups, not counted; 0 failed)" in sweep
    assert "<b>SweepResult</b> · 6 measured sessions" in sweep
    assert "<table" in text_of(cell_with(nb, "result.summary.set_index(\"max_delay\")[columns]"))
    assert images(cell_with(nb, "result.plot_ecdf(ax=left)")) == 1
    assert images(cell_with(nb, "result.plot_timeline(")) == 1
    assert images(cell_with(nb, "result.plot_displayed_wer(")) == 1
    assert "final_latency_s" in text_of(cell_with(nb, "result.latency.query("))
    s = _summary(out)
    assert s.index.tolist() == [1.0, 2.0, 4.0]
    assert (s["n_failed"] == 0).all() and (s["n_words"] > 0).all()
    assert (s["flushed_share"] < 0.2).all(), s["flushed_share"]  # the tail did its job
    assert s.loc[1.0, "final_p50"] < s.loc[4.0, "final_p50"], s["final_p50"]
    latency = pd.read_csv(out / "latency.csv")
    bound = latency.groupby("max_delay")["bound_s"].max()  # max_delay + 50 ms + RTT/2
    assert (s["final_p50"] <= bound).all(), "final latency medians should stay within the bound"
    assert set(latency["anchor"].dropna().astype(str)) <= {"reference", "engine"}
    _wer_does_not_grow_with_max_delay(s)
    # What a viewer saw converges to the final WER once every final has arrived.
    shown = pd.read_csv(out / "displayed_wer.csv")
    last = shown[shown["lag_s"] == shown["lag_s"].max()].set_index("max_delay")["wer"]
    for md, row in s.iterrows():
        if row["final_max"] <= shown["lag_s"].max():
            assert math.isclose(last[md], row["wer"], abs_tol=1e-9), (md, last[md], row["wer"])
    # The log stores times to the microsecond: recomputed numbers agree to that precision.
    again = SweepResult.load(out).summary.set_index("max_delay")
    assert (again["final_p50"] - s["final_p50"]).abs().max() < 1e-5
    recomputed = text_of(cell_with(nb, "again = SweepResult.load(OUT)"))
    for md, p50 in s["final_p50"].items():
        assert re.search(rf"{md:.1f}\s+\d+\s+{p50:.2f}", recomputed), (md, p50, recomputed)
    for name in ("latency.csv", "manifest.json", "latency_ecdf.png", "timeline.png"):
        assert (out / name).is_file(), name
    assert len(list((out / "sessions").glob("*/messages.jsonl"))) == 9  # 6 + 3 warm-ups


def check_accuracy(nb: Any, cwd: Path) -> None:
    out = cwd / "out" / "04-accuracy"
    normaliser = text_of(cell_with(nb, "normalise.describe()"))
    assert "whisper-english" in normaliser and "'mister dashwood paid $20'" in normaliser
    streams = [out / "audio" / f"{name}.wav" for name in
               ("man-1", "man-2", "man-3", "woman-1", "woman-2")]  # fmt: skip
    n_ref = sum(len(Reference.for_audio(f).words()) for f in streams)
    assert f"5 streams, {n_ref} reference words" in text_of(cell_with(nb, "n_words = {"))
    sweep = text_of(cell_with(nb, "result = await smnb.asweep("))
    assert "sweep: 15/15 sessions done (+2 untimed warm-ups) · 0 failed" in sweep, sweep
    assert "15 measured sessions" in sweep and "pace fast" in sweep
    assert "<table" in text_of(cell_with(nb, '"wer_ci_low", "wer_ci_high"]]'))
    assert images(cell_with(nb, "result.plot_tradeoff(ax=ax)")) == 1
    assert "substitute" in text_of(cell_with(nb, "align(ref_words, hyp_words)"))
    s = _summary(out)
    assert s.index.tolist() == [1.0, 2.0, 4.0] and (s["n_failed"] == 0).all()
    assert (s["n_ref_words"] == n_ref).all()
    assert (s["wer"] >= 0).all(), s["wer"]  # WER has no upper bound: insertions count too
    assert (s["wer_ci_low"] <= s["wer"] + 1e-9).all() and (
        s["wer"] <= s["wer_ci_high"] + 1e-9
    ).all()
    assert s["upwr"].between(0, 1).all()
    assert s["final_p50"].isna().all(), "pace fast: no latency may be reported"
    _wer_does_not_grow_with_max_delay(s)
    assert (out / "tradeoff.png").is_file() and not (out / "latency_ecdf.png").exists()


CHECKS: dict[str, Callable[[Any, Path], None]] = {
    "03-latency-vs-max-delay.ipynb": check_latency_vs_max_delay,
    "04-accuracy.ipynb": check_accuracy,
}
