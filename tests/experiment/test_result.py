"""smnb.experiment.result: the saved sweep directory and the offline recompute."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import smnb
import smnb.experiment.runner
import smnb.experiment.sessions
from smnb.experiment import SweepResult
from smnb.experiment.runner import asweep
from smnb.metrics import normalise
from tests.support.sweeps import CLIPS, SAMPLES, fake_session


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
    # Exactly: the JSONL log stores every time in full.
    pd.testing.assert_frame_equal(again.summary[cols], r.summary[cols], check_exact=True)
    pd.testing.assert_frame_equal(again.latency, r.latency, check_exact=True)
    assert len(smnb.load(out)) == 7  # 4 sessions + 3 warm-ups, each a Result


async def test_reprs_count_measured_sessions_and_show_units(clips: list[Path]) -> None:
    r = await asweep(clips, max_delay=[1, 2, 4], run_session=fake_session, progress=False,
                     n_resamples=50)  # fmt: skip
    text = repr(r)
    # 2 files × 3 settings measured; the 3 warm-ups are announced, not counted.
    assert text.startswith(
        "<SweepResult: 6 measured sessions (+3 untimed warm-ups, not counted; 0 failed)"
        " · 2 files × 3 settings · max_delay 1, 2, 4 s · pace realtime>"
    ), text
    table = r.display_table()
    assert list(table.columns) == [
        "max_delay (s)", "sessions", "words", "final p50 (s)", "final p95 (s)",
        "partial p50 (s)", "flushed", "ref words", "WER", "WER 95% CI",
    ]  # fmt: skip
    assert table["final p50 (s)"].tolist() == ["0.50", "1.00", "2.00"]  # rounded, in seconds
    assert table["sessions"].tolist() == [2, 2, 2]
    html = r._repr_html_()
    assert html.startswith("<div class='smnb-sweep'><div><b>SweepResult</b> · 6 measured")
    assert "<th>WER 95% CI</th>" in html


async def test_a_sweep_without_latency_shows_no_latency_columns(clips: list[Path]) -> None:
    # pace "fast": the fake sessions' logs say so, as real ones do; accuracy only.
    r = await asweep(clips, max_delay=[1, 4], run_session=fake_session, progress=False,
                     warmup=False, n_resamples=50, pace="fast")  # fmt: skip
    columns = list(r.display_table().columns)
    assert columns == ["max_delay (s)", "sessions", "ref words", "WER", "WER 95% CI"], columns
    assert r.summary["final_p50"].isna().all() and r.summary["wer"].notna().all()


async def test_load_reads_only_the_sessions_the_sweep_saved(
    clips: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    r = await asweep(clips, max_delay=[1, 2], run_session=fake_session, progress=False,
                     out=out, n_resamples=10, warmup=False)  # fmt: skip
    listed = json.loads((out / "manifest.json").read_text())["sessions"]
    assert listed == [o.spec.session_id for o in r.outcomes] and len(listed) == 4
    # A stray session folder (another sweep's, a copy) never mixes in.
    stray = out / "sessions" / "999_stray_md4_r0"
    shutil.copytree(out / "sessions" / listed[0], stray)
    spec = json.loads((stray / "spec.json").read_text())
    (stray / "spec.json").write_text(json.dumps({**spec, "session_id": stray.name}))
    again = SweepResult.load(out)
    assert sorted(again.results) == sorted(listed)
    assert again.summary["n_sessions"].tolist() == r.summary["n_sessions"].tolist() == [2, 2]
    # A directory saved before the manifest listed its sessions: sessions.csv lists them.
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["sessions"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert sorted(SweepResult.load(out).results) == sorted(listed)


async def test_a_fast_sweep_draws_wer_against_what_it_swept(tmp_path: Path) -> None:
    # Real local server, max_delay left unset, max_delay_mode swept: no latency measured.
    for sample in SAMPLES.glob("cards-001.*"):  # the clip and its reference, copied
        shutil.copy(sample, tmp_path)
    clip, out = tmp_path / "cards-001.wav", tmp_path / "modes"
    r = await asweep([clip], max_delay_mode=["fixed", "flexible"], pace="fast", out=out,
                     progress=False, warmup=False, n_resamples=20)  # fmt: skip
    assert (out / "tradeoff.png").is_file() and not (out / "latency_ecdf.png").exists()
    assert r.tradeoff_setting == "max_delay_mode"
    assert r.display_table()["max_delay (s)"].tolist() == ["4 (default)"] * 2  # not "nan"
    ax = r.plot_tradeoff(ax=Figure().subplots())
    assert ax.get_title() == "WER against max_delay_mode"
    assert np.isfinite(ax.get_lines()[0].get_xdata()).all()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["fixed", "flexible"]
    for draw in (r.plot_ecdf, r.plot_box):  # a clear refusal, not an empty figure
        with pytest.raises(ValueError, match=r"^no latency to draw: .* \(pace fast\)$"):
            draw()
    # One setting and no latency: nothing to draw WER against, so no blank tradeoff.png.
    one = await asweep([clip], pace="fast", out=tmp_path / "one",
                       progress=False, warmup=False, n_resamples=20)  # fmt: skip
    assert one.has_references and not (tmp_path / "one" / "tradeoff.png").exists()
    with pytest.raises(ValueError, match=r"^no trade-off to draw: no latency measured"):
        one.plot_tradeoff()


async def test_a_realtime_sweep_leaving_max_delay_unset_keeps_its_latency(tmp_path: Path) -> None:
    # Real local server at real-time pace; max_delay is left to the API (NaN in the tables).
    for sample in SAMPLES.glob("cards-001.*"):
        shutil.copy(sample, tmp_path)
    r = await asweep([tmp_path / "cards-001.wav"], max_delay_mode=["fixed", "flexible"],
                     progress=False, warmup=False, concurrency=2, n_resamples=20)  # fmt: skip
    assert r.summary["max_delay"].isna().all() and r.timed
    for column in ("n_words", "final_p50", "violation_rate", "displayed_wer_at_0s"):
        assert r.summary[column].notna().all() and (r.summary[column] >= 0).all(), column
    assert (r.summary["n_words"] == 3).all()
    assert (r.latency["bound_s"] >= 4.05).all()  # the default's bound, not NaN
