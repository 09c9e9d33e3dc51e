"""The legacy ``speechmatics-python`` CLI, unchanged, against the real smnb server.

``speechmatics rt transcribe --url ws://127.0.0.1:PORT/v2 --ssl-mode none FILE``
prints finals on stdout (and partials on stderr). It shares the ``speechmatics``
namespace with ``speechmatics-rt``, so it lives in its own virtualenv:
``<repo>/.venv-legacy`` or the executable named by ``SMNB_LEGACY_CLI``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

from .conftest import REPO, SAMPLES, WER_BOUND, reference, wer

pytestmark = pytest.mark.timeout(180)

INSTALL = "python -m venv .venv-legacy && .venv-legacy/bin/pip install speechmatics-python"


@pytest.fixture(scope="session")
def legacy_cli() -> str:
    path = os.environ.get("SMNB_LEGACY_CLI") or str(REPO / ".venv-legacy" / "bin" / "speechmatics")
    if not Path(path).is_file():
        pytest.fail(
            f"the legacy speechmatics CLI is not installed at {path}; install it in its own "
            f"virtualenv from the repository root with: {INSTALL} (or set SMNB_LEGACY_CLI)"
        )
    return path


def run_cli(cli: str, url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # HOME points at an empty directory so no ~/.speechmatics profile is picked up.
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONWARNINGS": "ignore"}
    env.pop("SPEECHMATICS_API_KEY", None)
    proc = subprocess.run(
        [cli, "rt", "transcribe", "--url", url, "--ssl-mode", "none", *args],
        capture_output=True, text=True, env=env, timeout=150,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def spoken(stdout: str) -> str:
    """The transcript the CLI printed, without its SPEAKER / [EndOfUtterance] markers."""
    lines = [ln for ln in stdout.splitlines() if not ln.startswith(("SPEAKER:", "[End"))]
    return " ".join(lines)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--enable-partials"],
        ["--max-delay", "1"],
        ["--max-delay", "1", "--max-delay-mode", "fixed", "--operating-point", "standard"],
    ],
)
def test_file_audio(legacy_cli: str, server_url: str, tmp_path: Path, args: list[str]) -> None:
    name = "librivox-ss01-0870"
    proc = run_cli(legacy_cli, server_url, tmp_path, *args, str(SAMPLES / f"{name}.wav"))
    assert wer(reference(name), spoken(proc.stdout)) <= WER_BOUND, proc.stdout
    if "--enable-partials" in args:
        redrawn = [ln for ln in proc.stderr.splitlines() if ln.strip()]  # partials, on stderr
        assert len(redrawn) >= 5, proc.stderr


def test_raw_pcm(legacy_cli: str, server_url: str, tmp_path: Path) -> None:
    name = "librispeech-1988-24833-0001"
    audio, _ = sf.read(SAMPLES / f"{name}.wav", dtype="int16")
    raw = tmp_path / "speech.raw"
    raw.write_bytes(audio.tobytes())
    args = ["--raw", "pcm_s16le", "--sample-rate", "16000", str(raw)]
    proc = run_cli(legacy_cli, server_url, tmp_path, *args)
    assert wer(reference(name), spoken(proc.stdout)) <= WER_BOUND, proc.stdout


def test_speaker_diarization(legacy_cli: str, server_url: str, tmp_path: Path) -> None:
    args = ["--diarization", "speaker", str(SAMPLES / "two-speakers.wav")]
    proc = run_cli(legacy_cli, server_url, tmp_path, *args)
    assert "SPEAKER: S1" in proc.stdout
    assert wer(reference("two-speakers"), spoken(proc.stdout)) <= WER_BOUND, proc.stdout


def test_print_json_with_end_of_utterance(legacy_cli: str, server_url: str, tmp_path: Path) -> None:
    args = ["--print-json", "--enable-partials", "--end-of-utterance-silence-trigger", "0.6"]
    proc = run_cli(legacy_cli, server_url, tmp_path, *args, str(SAMPLES / "two-speakers.wav"))
    messages = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = {m["message"] for m in messages}
    assert {"AddTranscript", "AddPartialTranscript", "EndOfUtterance"} <= kinds
    finals = "".join(
        m["metadata"]["transcript"] for m in messages if m["message"] == "AddTranscript"
    )
    assert wer(reference("two-speakers"), finals) <= WER_BOUND, finals
