"""``smnb sweep``: flags become a sweep; bad FIELD=VALUE pairs exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import smnb
import smnb.experiment.runner
import smnb.experiment.sessions
from smnb.experiment import SweepResult
from smnb.experiment.runner import sweep
from tests.support.sweeps import copy_clips, fake_session


@pytest.fixture
def clips(tmp_path: Path) -> list[Path]:
    return copy_clips(tmp_path)


@pytest.fixture
def cli_on_fake_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's sweeps run their sessions with ``fake_session``: these tests are about flags."""

    def fake_sweep(sources: Any, **kwargs: Any) -> SweepResult:
        return sweep(sources, run_session=fake_session, **kwargs)

    monkeypatch.setattr(smnb.experiment.runner, "sweep", fake_sweep)


def test_cli_turns_flags_into_a_sweep(
    clips: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from smnb.cli import main

    seen: dict[str, Any] = {}

    def fake_sweep(sources: Any, **kwargs: Any) -> SweepResult:
        seen.update(kwargs, sources=sources)
        return sweep(sources, run_session=fake_session, **kwargs)

    monkeypatch.setattr(smnb.experiment.runner, "sweep", fake_sweep)
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


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--set", "max_delay=1,2", "--max-delay", "3"],
         "max_delay is given twice: --set and --max-delay"),
        (["--config", "max_delay=2", "--max-delay", "3"],
         "max_delay is given twice: --config and --max-delay"),
        (["--config", "max_delay=2", "--set", "max_delay=1,3"],
         "max_delay is given twice: --config and --set"),
        (["--set", "max_delay=1", "--set", "max_delay=2"],
         "max_delay is given twice: --set and --set"),
        (["--set", "pace=fast"], "--set pace: not a transcription_config field"),
        (["--config", "max_dealy=2"],
         "--config max_dealy: not a transcription_config field; did you mean 'max_delay'?"),
    ],
)  # fmt: skip
def test_cli_a_field_from_two_flags_exits_2_and_says_which(
    clips: list[Path], tmp_path: Path, capsys: Any, flags: list[str], message: str
) -> None:
    from smnb.cli import main

    out = tmp_path / "never"
    assert main(["sweep", str(clips[0]), *flags, "--no-progress", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == f"smnb sweep: {message}"
    assert not out.exists()  # refused before anything ran


@pytest.mark.usefixtures("cli_on_fake_sessions")
def test_at_fast_pace_the_cli_prints_no_latency_and_says_why(
    clips: list[Path], tmp_path: Path, capsys: Any
) -> None:
    from smnb.cli import main

    code = main(["sweep", *map(str, clips), "--max-delay", "1", "--pace", "fast",
                 "--no-progress", "--no-warmup", "--out", str(tmp_path / "fast")])  # fmt: skip
    assert code == 0
    captured = capsys.readouterr()
    assert "final_p50" not in captured.out and "partial_p50" not in captured.out
    assert "n_words" in captured.out and "wer" in captured.out
    assert "latency is not meaningful at --pace fast" in captured.err


@pytest.mark.usefixtures("cli_on_fake_sessions")
def test_cli_refuses_an_earlier_sweeps_out_unless_reuse(
    clips: list[Path], tmp_path: Path, capsys: Any
) -> None:
    from smnb.cli import main

    args = [*map(str, clips), "--no-progress", "--no-warmup", "--out", str(tmp_path / "o")]
    assert main(["sweep", *args, "--max-delay", "1", "2"]) == 0
    capsys.readouterr()
    assert main(["sweep", *args, "--max-delay", "4"]) == 2
    assert "already holds the sessions of an earlier sweep" in capsys.readouterr().err
    assert main(["sweep", *args, "--max-delay", "4", "--reuse"]) == 0
    assert len(SweepResult.load(tmp_path / "o").summary) == 1
