"""smnb.experiment.reuse: a finished sweep is read back only when it is exactly this plan."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from smnb.exceptions import ConfigError
from smnb.experiment import SessionOutcome, SessionSpec, SweepResult
from smnb.experiment.runner import asweep
from tests.support.sweeps import fake_session


class Counting:
    """The fake session hook, counting the sessions it runs."""

    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self, spec: SessionSpec) -> SessionOutcome:
        self.runs += 1
        return await fake_session(spec)


async def _sweep(clips: list[Path], out: Path, hook: Counting, **kw: object) -> object:
    settings = {"max_delay": [1, 2], "n_resamples": 50, "progress": False, "warmup": False}
    settings["reuse"] = True
    return await asweep(clips, out=out, run_session=hook, **{**settings, **kw})  # type: ignore[arg-type]


async def test_the_same_plan_is_read_back_not_run_again(clips: list[Path], tmp_path: Path) -> None:
    hook, out = Counting(), tmp_path / "out"
    first = await _sweep(clips, out, hook)
    assert hook.runs == 4 and first.reused_from is None  # type: ignore[attr-defined]
    digest = json.loads((out / "manifest.json").read_text())["plan_digest"]
    assert len(digest) == 64
    again = await _sweep(clips, out, hook)
    assert hook.runs == 4, "nothing may be measured again"
    assert again.reused_from == out  # type: ignore[attr-defined]
    # Read back from the logs alone: the same numbers, and the repr says it was reused.
    assert again.summary["final_p50"].tolist() == first.summary["final_p50"].tolist()  # type: ignore[attr-defined]
    assert "reused: measured" in repr(again)


async def test_any_change_to_the_plan_measures_again(clips: list[Path], tmp_path: Path) -> None:
    hook, out = Counting(), tmp_path / "out"
    await _sweep(clips, out, hook)
    await _sweep(clips, out, hook, max_delay=[1, 4])  # another setting
    assert hook.runs == 8
    await _sweep(clips, out, hook, max_delay=[1, 4], bootstrap_seed=1)  # another analysis
    assert hook.runs == 12
    clips[0].with_suffix(".txt").write_text("a different reference\n")  # another reference
    await _sweep(clips, out, hook, max_delay=[1, 4], bootstrap_seed=1)
    assert hook.runs == 16
    with clips[1].open("ab") as fh:  # other audio bytes under the same name
        fh.write(b"\0\0")
    await _sweep(clips, out, hook, max_delay=[1, 4], bootstrap_seed=1)
    assert hook.runs == 20
    await _sweep(clips, out, hook, max_delay=[1, 4], bootstrap_seed=1)
    assert hook.runs == 20  # and that plan, in turn, is reused


async def test_a_damaged_directory_is_measured_again(clips: list[Path], tmp_path: Path) -> None:
    hook, out = Counting(), tmp_path / "out"
    await _sweep(clips, out, hook)
    next((out / "sessions").glob("*/messages.jsonl")).unlink()
    await _sweep(clips, out, hook)
    assert hook.runs == 8


async def test_reuse_needs_a_directory(clips: list[Path]) -> None:
    with pytest.raises(ConfigError, match="reuse=True needs out="):
        await asweep(clips, max_delay=[1], reuse=True, progress=False)


async def test_an_earlier_sweeps_directory_is_refused_without_reuse(
    clips: list[Path], tmp_path: Path
) -> None:
    hook, out = Counting(), tmp_path / "out"
    await _sweep(clips, out, hook, reuse=False)
    with pytest.raises(ConfigError, match=r"already holds the sessions of an earlier sweep"):
        await _sweep(clips, out, hook, reuse=False, max_delay=[4])
    assert hook.runs == 4, "refused before anything runs"
    assert len(SweepResult.load(out).summary) == 2, "and the earlier sweep is left alone"


async def test_a_changed_plan_replaces_the_earlier_sweep(clips: list[Path], tmp_path: Path) -> None:
    hook, out = Counting(), tmp_path / "out"
    await _sweep(clips, out, hook, max_delay=[1, 2], repeats=2)
    (out / "sessions" / "notes.txt").write_text("the user's own file")
    result = await _sweep(clips, out, hook, max_delay=[4])
    assert hook.runs == 8 + 2
    # Only this sweep's sessions are on disk and read back: summary.csv and load agree.
    folders = sorted(p.name for p in (out / "sessions").iterdir() if p.is_dir())
    assert folders == sorted(o.spec.session_id for o in result.outcomes)  # type: ignore[attr-defined]
    loaded = SweepResult.load(out)
    assert len(loaded.summary) == len(pd.read_csv(out / "summary.csv")) == 1
    assert loaded.summary["max_delay"].tolist() == [4.0]
    assert (out / "sessions" / "notes.txt").is_file(), "what no sweep wrote is kept"
