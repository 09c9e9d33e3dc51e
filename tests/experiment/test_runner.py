"""smnb.experiment.runner: sweep/asweep, checking every setting before running, failures kept.

Most tests replace the session with a fake (``run_session=``, tests/support/sweeps.py)
whose medians are known exactly. One slow test runs the real local server.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import smnb
import smnb.experiment.runner
import smnb.experiment.sessions
from smnb.exceptions import AudioError, ConfigError
from smnb.experiment import FAILED, SessionOutcome, SessionSpec, SweepResult
from smnb.experiment.runner import asweep, sweep
from tests.support.client import tone_server, tone_wav
from tests.support.sweeps import CLIPS, SAMPLES, fake_log, fake_session


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


async def test_speechmatics_rt_url_serves_the_sweep_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)
    tones = tone_wav(tmp_path / "tones.wav")
    async with tone_server() as url:  # e.g. an on-prem container on this machine
        monkeypatch.setenv("SPEECHMATICS_RT_URL", url)
        r = await asweep(tones, max_delay=[1, 2], references=False, pace="fast",
                         warmup=False, progress=False)  # fmt: skip
    assert r.manifest["server"] == {"url": url, "endpoint": "given"}
    assert (r.summary["n_failed"] == 0).all()
    notes = [res.recorder.records[0].payload for res in r.results.values()]
    assert [(n["url"], n["embedded_server"]) for n in notes] == [(url, False)] * 2


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
    # Warm-ups only load the recognizers: the first 3 s of the smallest file, at fast pace.
    for sid in r.sessions.loc[r.sessions["order"] < 0, "session_id"]:
        warm = r.results[sid]
        assert warm.audio_seconds is not None and warm.audio_seconds <= 3.0 + 1e-6
        assert warm.messages.query("type == 'Session'")["payload"].iloc[0]["pace"] == "fast"


async def test_every_setting_is_checked_before_any_session_runs(clips: list[Path]) -> None:
    ran: list[str] = []

    async def counting(spec: SessionSpec) -> SessionOutcome:
        ran.append(spec.session_id)
        return await fake_session(spec)

    kw: dict[str, Any] = {"run_session": counting, "progress": False, "warmup": False}
    with pytest.raises(ConfigError, match=r"unknown sweep setting 'max_dely'.*'max_delay'"):
        await asweep(clips, max_dely=[1, 2], **kw)
    with pytest.raises(ConfigError, match=r"setting max_delay-9: .*max_delay"):
        await asweep(clips, max_delay=[1, 9], **kw)  # the second setting is out of range
    with pytest.raises(ConfigError, match="max_dely"):
        await asweep(clips, config={"max_dely": 1}, **kw)
    with pytest.raises(ConfigError, match="max_delay_mode"):
        await asweep(clips, max_delay_mode=["fixed", "sometimes"], **kw)  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="pace"):
        await asweep(clips, max_delay=[1], pace="slow", **kw)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="repeats"):
        await asweep(clips, max_delay=[1], repeats=0, **kw)
    with pytest.raises(ConfigError, match="unknown sweep setting 'max_dely'"):
        sweep(clips, max_dely=[1], **kw)  # the blocking twin checks the same way
    with pytest.raises(ConfigError, match=r"^a sweep needs at least one audio file$"):
        await asweep([], max_delay=[1], **kw)
    assert ran == []


@pytest.mark.parametrize(
    "given",
    [
        {"max_delay": [1], "config": {"max_delay": 2}},  # swept and fixed
        {"max_delay": 1, "config": {"max_delay": 2}},  # fixed twice
        {"language": "de", "config": {"language": "en"}},  # a keyword off its default
    ],
)
async def test_a_field_given_as_a_keyword_and_in_config_is_refused(
    clips: list[Path], given: dict[str, Any]
) -> None:
    name = next(k for k in given if k != "config")
    with pytest.raises(ConfigError, match=f"^{name} is given twice: {name}= and config=$"):
        await asweep(clips, run_session=fake_session, progress=False, warmup=False, **given)


def test_sweep_and_asweep_have_the_same_explicit_keywords() -> None:
    params = inspect.signature(asweep).parameters
    assert inspect.signature(sweep).parameters == params
    assert all(p.kind is not p.VAR_KEYWORD for p in params.values())
    assert {"max_delay", "max_delay_mode", "language", "diarization", "config"} <= set(params)
    assert asyncio.iscoroutinefunction(asweep) and not asyncio.iscoroutinefunction(sweep)
    assert "Exactly the parameters of" in (sweep.__doc__ or "")


async def test_config_supplies_fields_the_keywords_leave_at_their_default(
    clips: list[Path],
) -> None:
    r = await asweep(clips[:1], max_delay=[2], config={"language": "en", "enable_partials": True,
                     "max_delay_mode": "fixed"}, run_session=fake_session, progress=False,
                     warmup=False, n_resamples=10)  # fmt: skip
    assert r.outcomes[0].spec.config["max_delay_mode"] == "fixed"
    assert r.outcomes[0].spec.config["max_delay"] == 2


def test_the_analysis_loads_without_the_runner() -> None:
    # Re-analysing a sweep directory offline must not pull in asyncio sessions or the client.
    code = (
        "import sys, smnb.experiment, smnb.experiment.result; "
        "assert 'smnb.experiment.runner' not in sys.modules; "
        "assert 'smnb.session.run' not in sys.modules; "
        "import smnb; assert smnb.experiment.runner.sweep is smnb.sweep"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


async def test_a_reference_for_a_channel_diarized_sweep_is_refused_by_name(tmp_path: Path) -> None:
    stereo = tmp_path / "stereo-two-channels.wav"
    shutil.copy(SAMPLES / stereo.name, stereo)
    ref = tmp_path / "ref.txt"
    ref.write_text("and mister john dashwood had then leisure\n")
    refused = r"^references: stereo-two-channels.wav: a reference cannot score a channel-diarized"
    for diarization in ("channel", ["none", "channel_and_speaker"]):  # fixed, or one setting
        with pytest.raises(ConfigError, match=refused):  # before anything runs
            await asweep([stereo], diarization=diarization, references=[ref],
                         run_session=fake_session, progress=False)  # fmt: skip
    # A discovered <stem>.txt is harmless: the real session runs, unscored, without a word.
    stereo.with_suffix(".txt").write_text("and mister john dashwood had then leisure\n")
    r = await asweep([stereo], diarization="channel", pace="fast", progress=False,
                     warmup=False, n_resamples=20)  # fmt: skip
    assert r.sessions["status"].tolist() == ["ok"] and r.summary["wer"].isna().all()
    assert "n_ref_words" not in r.summary and not r.has_references
