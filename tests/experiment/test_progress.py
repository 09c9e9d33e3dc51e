"""smnb.experiment.progress: the sweep's progress line counts measured sessions only."""

from __future__ import annotations

import pytest

from smnb.clock import ManualClock
from smnb.experiment.progress import Progress


def test_the_line_announces_warmups_then_counts_measured_sessions() -> None:
    clock = ManualClock()
    line = Progress(6, warmups=3, enabled=False, clock=clock)
    assert line.text() == "sweep: warming up 3 recognizers, then 6 sessions"
    line.running()
    clock.advance(12)
    line.update("000_a_max_delay-1_r0")
    line.update("001_b_max_delay-1_r0", "SessionTimeout: no EndOfTranscript")
    assert line.text() == "sweep: 2/6 sessions running (+3 untimed warm-ups) · 1 failed · 12 s"
    for k in range(4):
        line.update(f"00{k + 2}")
    line.close()
    assert line.text().startswith("sweep: 6/6 sessions done (+3 untimed warm-ups) · 1 failed")
    bundle = line._bundle()
    assert "001_b_max_delay-1_r0 failed: SessionTimeout" in bundle["text/plain"]
    assert "<progress value='6' max='6'" in bundle["text/html"]


def test_outside_a_kernel_the_line_is_a_bar_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    line = Progress(2).start()
    line.running()
    line.update("a")
    line.update("b", "boom")
    line.close()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "2/2" in captured.err and "smnb sweep: b failed: boom" in captured.err


def test_a_reused_sweep_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    Progress(6).reused("reused the 6 sessions measured today in out/x")
    assert capsys.readouterr().err == "smnb sweep: reused the 6 sessions measured today in out/x\n"
