"""Engine workers never import the caller's ``__main__``: plain scripts just work.

Each case runs a real interpreter the way a new user would (a script without an ``if
__name__ == "__main__":`` guard, a script calling from threads, ``python -c``) and
transcribes a real recording with the real engine. The script's top-level code must run
once, and the transcript must be the recording's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jiwer
import pytest

from smnb.server.engine.worker import main

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "smnb" / "samples" / "librivox-ss01-0870.wav"
REFERENCE = SAMPLE.with_suffix(".txt").read_text().strip()
MARK = "top-level code ran"

PLAIN = f"""
import smnb
print({MARK!r}, flush=True)
print("TEXT:", smnb.transcribe({str(SAMPLE)!r}).text, flush=True)
"""

THREADS = f"""
import threading
import smnb
print({MARK!r}, flush=True)
texts = []
def work():
    texts.append(smnb.transcribe({str(SAMPLE)!r}).text)
threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for text in texts:
    print("TEXT:", text, flush=True)
"""


def run_python(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SPEECHMATICS_API_KEY", None)  # the embedded local server, not the SaaS
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=150
    )


def check(done: subprocess.CompletedProcess[str], transcripts: int) -> None:
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines.count(MARK) == 1, done.stdout  # workers never re-ran the script
    texts = [line.removeprefix("TEXT: ") for line in lines if line.startswith("TEXT: ")]
    assert len(texts) == transcripts, done.stdout
    for text in texts:
        assert jiwer.wer(REFERENCE, text.lower().strip(".")) < 0.5, text
    assert "Traceback" not in done.stderr, done.stderr[-3000:]


@pytest.mark.timeout(180)
def test_a_plain_script_without_a_main_guard(tmp_path: Path) -> None:
    script = tmp_path / "plain.py"
    script.write_text(PLAIN)
    check(run_python([str(script)], tmp_path), 1)


@pytest.mark.timeout(180)
def test_a_script_that_transcribes_from_threads(tmp_path: Path) -> None:
    script = tmp_path / "threads.py"
    script.write_text(THREADS)
    check(run_python([str(script)], tmp_path), 2)


@pytest.mark.timeout(180)
def test_python_dash_c(tmp_path: Path) -> None:
    check(run_python(["-c", PLAIN], tmp_path), 1)


def test_the_entry_point_explains_itself_when_run_by_hand() -> None:
    with pytest.raises(SystemExit, match="started by the engine pool"):
        main([])
