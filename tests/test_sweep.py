"""The sweep runner: planning, concurrency, failures, executors, saving and reloading.

Most tests replace the session with a fake (``run_session=``) that builds a log on a
ManualClock from the clip's reference timings: every final arrives ``max_delay / 2``
after its word ends and every word is first shown in a partial 0.1 s after it ends, so
the expected medians are known exactly. One slow test runs the real local server.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import smnb
import smnb.sweep_runner
from smnb.exceptions import AudioError, ConfigError
from smnb.experiment import FAILED, OK, SessionOutcome, SessionSpec, SweepResult, result_of
from smnb.experiment.plan import grid, labels, plan, slug, split_fields
from smnb.metrics import Reference, normalise
from smnb.result import Result
from smnb.sweep_runner import asweep, sweep
from tests.metrics.builder import SessionLog

SAMPLES = Path(smnb.__file__).parent / "samples"
CLIPS = ("librivox-ss01-0880", "librivox-ss01-0930")


@pytest.fixture
def clips(tmp_path: Path) -> list[Path]:
    """Two clips with their .txt and .words.json, copied so nothing touches the package."""
    out = []
    for name in CLIPS:
        for suffix in (".wav", ".txt", ".words.json"):
            shutil.copy(SAMPLES / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
        out.append(tmp_path / f"{name}.wav")
    return out


def fake_log(spec: SessionSpec) -> Result:
    ref = Reference.for_audio(spec.file)
    assert ref is not None and ref.timings is not None
    delay = float(spec.config["max_delay"]) / 2
    words = [(w.word, w.start, w.end) for w in ref.timings]
    events: list[tuple[float, str, int]] = []
    for k, (_, _, end) in enumerate(words):
        events.append((end + 0.1, "partial", k))
        events.append((end + delay, "final", k))
    log = SessionLog(audio_seconds=words[-1][2] + 0.2, **spec.config)
    finalised = 0
    for t, kind, k in sorted(events):
        if kind == "final":
            log.final(t, words[k])
            finalised = k + 1
        else:
            log.partial(t, *words[finalised : k + 1])
    return Result(log.end(words[-1][2] + delay + 0.1), live=False)


async def fake_session(spec: SessionSpec) -> SessionOutcome:
    await asyncio.sleep(0)
    return SessionOutcome(spec, OK, result=fake_log(spec))


# --- planning ---------------------------------------------------------------------


def test_grid_and_fixed_fields() -> None:
    swept, fixed = split_fields({"max_delay": [1, 2], "max_delay_mode": ("fixed", "flexible"),
                                 "language": "en", "operating_point": "enhanced"})  # fmt: skip
    assert fixed == {"language": "en", "operating_point": "enhanced"}
    assert grid(swept) == [
        {"max_delay": 1, "max_delay_mode": "fixed"},
        {"max_delay": 1, "max_delay_mode": "flexible"},
        {"max_delay": 2, "max_delay_mode": "fixed"},
        {"max_delay": 2, "max_delay_mode": "flexible"},
    ]
    assert grid({}) == [{}]
    with pytest.raises(ValueError, match="max_delay"):
        split_fields({"max_delay": []})


def test_plan_is_seeded_block_randomised() -> None:
    settings = grid({"max_delay": [0.7, 1, 2, 4]})
    specs = plan(["a.wav", "b.wav"], settings, repeats=3, seed=5, out="/runs/x")
    assert len(specs) == 2 * 4 * 3
    assert [s.order for s in specs] == list(range(24))
    for r in range(3):  # each repeat round holds every (file, setting) exactly once
        block = [(s.label, s.settings["max_delay"]) for s in specs if s.repeat == r]
        assert sorted(block) == sorted((f, md) for f in "ab" for md in (0.7, 1, 2, 4))
    again = plan(["a.wav", "b.wav"], settings, repeats=3, seed=5, out="/runs/x")
    assert [s.session_id for s in again] == [s.session_id for s in specs]
    other = plan(["a.wav", "b.wav"], settings, repeats=3, seed=6, out="/runs/x")
    assert [s.session_id for s in other] != [s.session_id for s in specs]
    first = specs[0]
    assert first.config == {"language": "en", "enable_partials": True, **first.settings}
    assert first.out_dir == f"/runs/x/sessions/{first.session_id}"


def test_labels_and_slugs() -> None:
    assert labels(["x/a.wav", "y/a.wav", "b.flac"]) == ["a", "a-2", "b"]
    assert slug({"max_delay": 1.0, "max_delay_mode": "fixed"}) == "max_delay-1_max_delay_mode-fixed"
    assert slug({}) == "default"


# --- running ----------------------------------------------------------------------


async def test_fake_sweep_by_hand(clips: list[Path], tmp_path: Path) -> None:
    r = await asweep(clips, max_delay=[1, 2, 4], run_session=fake_session, progress=False,
                     out=tmp_path / "out", n_resamples=100)  # fmt: skip
    s = r.summary
    assert s["max_delay"].tolist() == [1.0, 2.0, 4.0]
    assert s["final_p50"].tolist() == pytest.approx([0.5, 1.0, 2.0])  # max_delay / 2 exactly
    assert s["partial_p50"].tolist() == pytest.approx([0.1, 0.1, 0.1])
    assert s["wer"].tolist() == [0.0, 0.0, 0.0]
    assert s["n_words"].tolist() == [8 + 8] * 3  # both clips have eight words
    assert set(r.latency["anchor"].astype(str)) == {"reference"}
    # as many warm-ups as sessions run at once (3), then the six timed sessions
    assert list(r.sessions["status"]) == ["warmup"] * 3 + ["ok"] * 6
    assert list(r.sessions["order"]) == [-1, -2, -3, 0, 1, 2, 3, 4, 5]


async def test_concurrency_is_bounded_and_order_kept(clips: list[Path]) -> None:
    running, peak, started = 0, 0, []

    async def slow(spec: SessionSpec) -> SessionOutcome:
        nonlocal running, peak
        started.append(spec.order)
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return await fake_session(spec)

    r = await asweep(clips, max_delay=[1, 2, 4], repeats=2, concurrency=3, run_session=slow,
                     progress=False, warmup=False, n_resamples=10)  # fmt: skip
    assert peak == 3
    assert started == list(range(12))
    assert [o.spec.order for o in r.outcomes] == list(range(12))


async def test_failures_are_kept_never_dropped(clips: list[Path], tmp_path: Path) -> None:
    async def flaky(spec: SessionSpec) -> SessionOutcome:
        if spec.settings["max_delay"] == 2 and spec.label == CLIPS[0]:
            raise RuntimeError("worker died")
        if spec.settings["max_delay"] == 4 and spec.label == CLIPS[1]:
            partial = fake_log(spec)  # as if the connection dropped: keep what arrived
            return SessionOutcome(spec, FAILED, "ConnectionLost: gone", result=partial)
        return await fake_session(spec)

    out = tmp_path / "out"
    r = await asweep(clips, max_delay=[1, 2, 4], run_session=flaky, progress=False, warmup=False,
                     out=out, n_resamples=10)  # fmt: skip
    failed = r.sessions[r.sessions["status"] == "failed"]
    assert sorted(failed["error"]) == ["ConnectionLost: gone", "RuntimeError: worker died"]
    assert r.summary["n_failed"].tolist() == [0, 1, 1]
    assert r.summary["n_words"].tolist() == [16, 8, 8]  # failed sessions' words excluded
    lost = failed[failed["error"].str.startswith("Connection")]["session_id"].item()
    assert (out / "sessions" / lost / "messages.jsonl").stat().st_size > 0  # log kept


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


def test_sweep_from_sync_code_and_inside_a_loop(clips: list[Path]) -> None:
    r = sweep(clips[:1], max_delay=[1], run_session=fake_session, progress=False,
              warmup=False, n_resamples=10)  # fmt: skip
    assert r.summary["final_p50"].tolist() == pytest.approx([0.5])

    async def in_a_notebook_cell() -> SweepResult:
        return sweep(clips[:1], max_delay=[2], run_session=fake_session, progress=False,
                     warmup=False, n_resamples=10)  # fmt: skip

    assert asyncio.run(in_a_notebook_cell()).summary["final_p50"].tolist() == [1.0]


def test_smnb_sweep_is_the_function() -> None:
    assert smnb.sweep is sweep and smnb.asweep is asweep


async def test_bad_arguments_fail_before_running(clips: list[Path], tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found"):
        await asweep([tmp_path / "missing.wav"], max_delay=[1])
    with pytest.raises(ConfigError, match="concurrency"):
        await asweep(clips, max_delay=[1], concurrency=0)
    with pytest.raises(ConfigError, match="references"):
        await asweep(clips, max_delay=[1], references=[None])
    with pytest.raises(ConfigError, match="not both"):
        await asweep(clips, executor=object(), run_session=fake_session)  # type: ignore[arg-type]


# --- executors --------------------------------------------------------------------


@pytest.fixture
def fake_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    async def run(spec: SessionSpec, *, api_key: str | None = None) -> SessionOutcome:
        return await fake_session(spec)

    monkeypatch.setattr(smnb.sweep_runner, "run_in_process", run)


class DaskLike:
    """An executor whose futures are not concurrent.futures (like dask.distributed)."""

    def __init__(self) -> None:
        self.submitted: list[str] = []

    def submit(self, fn: Any, *args: Any) -> Any:
        self.submitted.append(args[0].session_id)
        shipped = pickle.dumps((fn, args))  # as if it crossed a process boundary

        class Future:
            def result(self) -> Any:  # runs on whichever thread waits, like a remote worker
                fn, args = pickle.loads(shipped)
                return pickle.loads(pickle.dumps(fn(*args)))

        return Future()


@pytest.mark.usefixtures("fake_in_process")
async def test_concurrent_futures_executor(clips: list[Path]) -> None:
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        r = await asweep(clips, max_delay=[1, 4], executor=pool, progress=False, warmup=False,
                         url="ws://127.0.0.1:1/v2", n_resamples=10)  # fmt: skip
    assert r.summary["final_p50"].tolist() == pytest.approx([0.5, 2.0])
    assert r.manifest["runner"] == "executor=concurrent.futures.thread.ThreadPoolExecutor"


@pytest.mark.usefixtures("fake_in_process")
async def test_dask_like_executor_gets_picklable_specs(clips: list[Path]) -> None:
    pool = DaskLike()
    r = await asweep(clips, max_delay=[2], executor=pool, progress=False, warmup=False,
                     url="ws://127.0.0.1:1/v2", n_resamples=10)  # fmt: skip
    assert sorted(pool.submitted) == sorted(o.spec.session_id for o in r.outcomes)
    assert r.summary["final_p50"].tolist() == [1.0]


def test_outcomes_pickle_their_log_as_text(clips: list[Path]) -> None:
    spec = plan(clips[:1], [{"max_delay": 1}])[0]
    outcome = SessionOutcome(spec, OK, result=fake_log(spec))
    back = pickle.loads(pickle.dumps(outcome))
    assert back.result is None and back.records_jsonl
    rebuilt = result_of(back)
    assert rebuilt.words["content"].tolist() == outcome.result.words["content"].tolist()


# --- command line -------------------------------------------------------------------


def test_cli_turns_flags_into_a_sweep(
    clips: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from smnb.cli import main

    seen: dict[str, Any] = {}

    def fake_sweep(sources: Any, **kwargs: Any) -> SweepResult:
        seen.update(kwargs, sources=sources)
        return sweep(sources, run_session=fake_session, **kwargs)

    monkeypatch.setattr(smnb.sweep_runner, "sweep", fake_sweep)
    out = tmp_path / "cli"
    code = main(["sweep", *map(str, clips), "--max-delay", "1", "2", "--set",
                 "max_delay_mode=fixed,flexible", "--config", "operating_point=enhanced",
                 "--repeats", "2", "--concurrency", "2", "--no-progress", "--no-warmup",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    assert seen["max_delay"] == [1.0, 2.0]
    assert seen["max_delay_mode"] == ["fixed", "flexible"]
    assert seen["operating_point"] == "enhanced"
    assert (seen["repeats"], seen["concurrency"], seen["references"]) == (2, 2, None)
    printed = capsys.readouterr().out
    assert "max_delay_mode" in printed and "final_p50" in printed
    assert len(pd.read_csv(out / "summary.csv")) == 4


def test_cli_bad_pairs_exit_2(clips: list[Path], tmp_path: Path) -> None:
    from smnb.cli import main

    assert main(["sweep", str(clips[0]), "--set", "max_delay", "--out", str(tmp_path)]) == 2
    assert (
        main(["sweep", str(tmp_path / "no.wav"), "--max-delay", "1", "--out", str(tmp_path)]) == 2
    )


# --- end to end: the embedded local server --------------------------------------------


@pytest.mark.slow
async def test_end_to_end_on_the_local_server(
    clips: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)
    out = tmp_path / "e2e"
    r = await asweep(clips, max_delay=[1, 2, 4], concurrency=3, out=out, progress=False,
                     n_resamples=200)  # fmt: skip
    s = r.summary.set_index("max_delay")
    assert list(s.index) == [1.0, 2.0, 4.0]
    assert (s["n_failed"] == 0).all(), r.sessions[["session_id", "status", "error"]]
    assert (s["n_words"] >= 10).all()  # most of the 16 reference words got a latency
    p50 = s["final_p50"]
    assert p50[1.0] < p50[2.0] < p50[4.0], p50  # finals wait longer when allowed to
    # ... and the medians stay within the bound (max_delay + 50 ms + half the fastest ack)
    bound = r.latency.groupby("max_delay")["bound_s"].max()
    assert (p50 <= bound).all(), pd.DataFrame({"p50": p50, "bound": bound})
    counted = r.latency[r.latency["counted"]]
    assert set(counted["anchor"].astype(str)) == {"reference"}  # insertions: engine-anchored
    assert s["wer"].notna().all() and s["partial_p50"].notna().all()
    assert r.manifest["server"]["endpoint"] == "local"
    assert r.manifest["server"]["url"].startswith("ws://127.0.0.1:")
    assert (out / "latency.csv").is_file() and (out / "latency_ecdf.png").is_file()
    assert len(list((out / "sessions").glob("*/messages.jsonl"))) == 9  # 6 + 3 warm-ups


# --- stitching -------------------------------------------------------------------------


def test_stitch_offsets_timings_exactly(clips: list[Path], tmp_path: Path) -> None:
    from smnb.audio.decode import decode_file
    from smnb.experiment import stitch

    wav = stitch(clips, tmp_path / "long" / "stream", gap_s=1.0, tail_s=5.0, lead_s=0.5)
    first, second = (decode_file(c) for c in clips)
    total = decode_file(wav)
    # 0.5 lead + clip 1 + 1.0 gap + clip 2 + 5.0 tail, to the sample
    expected = round(0.5 * 16000) + len(first.samples) + 16000 + len(second.samples) + 80000
    assert len(total.samples) == expected
    ref = Reference.for_audio(wav)
    a, b = (Reference.for_audio(c) for c in clips)
    assert ref is not None and a is not None and b is not None
    assert ref.text == f"{a.text} {b.text}"
    assert ref.timings is not None and a.timings is not None and b.timings is not None
    assert ref.timings[0].start == pytest.approx(a.timings[0].start + 0.5)
    shift = 0.5 + first.duration + 1.0
    assert ref.timings[len(a.timings)].end == pytest.approx(b.timings[0].end + shift, abs=1e-4)
    # the clip's samples sit where the timings say
    start = round(shift * 16000)
    assert np.array_equal(total.samples[start : start + 100], second.samples[:100])


async def test_a_failed_warmup_is_kept_but_never_counted(clips: list[Path]) -> None:
    async def cold(spec: SessionSpec) -> SessionOutcome:
        if spec.order < 0:
            raise RuntimeError("cold start")
        return await fake_session(spec)

    r = await asweep(clips, max_delay=[1], run_session=cold, concurrency=2, progress=False,
                     n_resamples=10)  # fmt: skip
    warm = r.sessions[r.sessions["order"] < 0]
    assert list(warm["status"]) == ["failed", "failed"]
    assert r.summary["n_failed"].tolist() == [0] and r.summary["n_sessions"].tolist() == [2]
