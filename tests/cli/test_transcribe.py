"""``smnb transcribe`` as a user runs it: a subprocess against the real local server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.support.client import FailingEngine, injecting_proxy, tone_server, tone_wav

CLI = [sys.executable, "-m", "smnb", "transcribe"]
KEY = "sk-FAKE-cli-31b7-do-not-print"


class Run:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr

    def one_line_error(self) -> str:
        lines = self.stderr.strip().splitlines()
        assert "Traceback" not in self.stderr, self.stderr
        assert lines and lines[-1].startswith("smnb transcribe: "), self.stderr
        return lines[0]


async def smnb_transcribe(*args: str | Path, env: dict[str, str] | None = None) -> Run:
    """Run the command while this loop keeps serving (the server may live on it)."""
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        *map(str, args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(env),
    )
    out, err = await asyncio.wait_for(proc.communicate(), 240)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECHMATICS_", "SM_"))}
    return {**env, **(extra or {})}


@pytest.fixture
def tones(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "tones.wav")


async def test_prints_the_final_transcript_and_writes_out(tones: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with tone_server() as url:
        run = await smnb_transcribe(
            tones,
            "--url",
            url,
            "--pace",
            "fast",
            "--out",
            out,
            "--max-delay",
            "1.5",
            "--max-delay-mode",
            "fixed",
        )
    assert run.code == 0, run.stderr
    assert run.stdout == "Alpha. Bravo. Charlie. Delta.\n"
    for name in ("words.csv", "partials.csv", "messages.jsonl", "summary.json"):
        assert (out / name).stat().st_size > 0
    start = json.loads((out / "messages.jsonl").read_text().splitlines()[1])["payload"]
    assert start["transcription_config"] == {
        "language": "en",
        "enable_partials": True,
        "max_delay": 1.5,
        "max_delay_mode": "fixed",
    }
    assert json.loads((out / "summary.json").read_text())["state"] == "completed"


async def test_print_json_streams_every_received_message(tones: Path) -> None:
    async with tone_server() as url:
        run = await smnb_transcribe(
            tones, "--url", url, "--pace", "fast", "--print-json", "--no-partials"
        )
    assert run.code == 0, run.stderr
    messages = [json.loads(line)["message"] for line in run.stdout.splitlines()]
    assert messages[0] == "Info" and messages[-1] == "EndOfTranscript"
    assert "AddPartialTranscript" not in messages and messages.count("AddTranscript") == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.wav"], "missing.wav: no such audio file"),
        (["notes.txt"], "notes.txt: not a readable audio file"),
        (["empty.wav"], "empty.wav: the file is empty"),
        (["TONES", "--max-delay", "9"], "max_delay must be between 0.7 and 4, not 9.0"),
        (["TONES", "--diarization", "channel"], "needs 2 or more channels"),
        (["TONES", "--url", "https://example.com"], "url must start with ws:// or wss://"),
        (["TONES", "--chunk-seconds", "0"], "chunk_seconds must be a number"),
        (["TONES", "--config", "missing.json"], "--config missing.json"),
    ],
)
async def test_bad_input_exits_2_with_one_line(
    tones: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "notes.txt").write_text("plain text\n")
    (tmp_path / "empty.wav").write_bytes(b"")
    args = [
        str(tones) if a == "TONES" else str(tmp_path / a) if a.endswith((".wav", ".txt")) else a
        for a in args
    ]
    nothing_listens = [] if "--url" in args else ["--url", "ws://127.0.0.1:9/v2"]
    run = await smnb_transcribe(*args, *nothing_listens)  # connecting would be exit 1, not 2
    assert run.code == 2, run.stderr
    assert message in run.one_line_error()
    assert run.stdout == ""


async def test_argparse_errors_are_exit_2_too(tones: Path) -> None:
    run = await smnb_transcribe(tones, "--pace", "ludicrous")
    assert run.code == 2 and "invalid choice" in run.stderr and "Traceback" not in run.stderr


async def test_session_errors_exit_1_and_keep_what_arrived(tones: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with tone_server(FailingEngine(after=10)) as url:
        run = await smnb_transcribe(tones, "--url", url, "--pace", "fast", "--out", out)
    assert run.code == 1
    assert "server error job_error: the recognizer failed" in run.one_line_error()
    assert f"what was received is in {out}" in run.stderr
    lines = (out / "messages.jsonl").read_text().splitlines()
    assert [json.loads(line)["type"] for line in lines[-3:]] == ["Error", "Closed", "ClientError"]
    refused = await smnb_transcribe(tones, "--url", "ws://127.0.0.1:9/v2")
    assert refused.code == 1 and "cannot connect to ws://127.0.0.1:9/v2" in refused.stderr


async def test_ctrl_c_exits_130_and_keeps_the_log(tones: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with tone_server() as url:
        proc = await asyncio.create_subprocess_exec(
            *CLI,
            str(tones),
            "--url",
            url,
            "--pace",
            "realtime",
            "--out",
            str(out),
            "--print-json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_env(None),
        )
        assert proc.stdout is not None
        while b"AudioAdded" not in await asyncio.wait_for(proc.stdout.readline(), 60):
            pass  # wait until audio is flowing
        proc.send_signal(signal.SIGINT)
        rest, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 130
    run = Run(130, rest.decode(), err.decode())
    assert run.one_line_error() == "smnb transcribe: interrupted"
    types = [json.loads(line)["type"] for line in (out / "messages.jsonl").read_text().splitlines()]
    assert types[-2:] == ["Closed", "ClientError"] and "AudioAdded" in types
    assert "EndOfTranscript" not in types
    assert json.loads((out / "summary.json").read_text())["error"]["type"] == "SessionCancelled"


async def test_the_key_appears_in_no_output_log_or_file(tones: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with tone_server(api_key=KEY) as url:
        ok = await smnb_transcribe(
            tones,
            "--url",
            url,
            "--pace",
            "fast",
            "--out",
            out,
            "-vv",
            env={"SPEECHMATICS_API_KEY": KEY},
        )
        denied = await smnb_transcribe(
            tones, "--url", url, "-vv", env={"SPEECHMATICS_API_KEY": KEY + "-wrong"}
        )
    assert ok.code == 0, ok.stderr
    assert "Bearer <redacted>" in ok.stderr  # the handshake headers were logged, redacted
    assert denied.code == 1 and "rejected the credentials (HTTP 401)" in denied.stderr
    texts = [ok.stdout, ok.stderr, denied.stdout, denied.stderr]
    texts += [p.read_text() for p in out.iterdir()]
    assert all(KEY not in text for text in texts)


async def test_help_documents_every_option() -> None:
    run = await smnb_transcribe("--help")
    assert run.code == 0
    for flag in (
        "--url",
        "--language",
        "--max-delay",
        "--max-delay-mode",
        "--no-partials",
        "--diarization",
        "--pace",
        "--out",
        "--chunk-seconds",
        "--temp-key",
        "--print-json",
        "--verbose",
        "exit codes",
    ):
        assert flag in run.stdout, flag


async def test_a_survived_problem_is_a_warning_and_the_run_succeeds(tones: Path) -> None:
    bad = '{"message": "ChannelAudioAdded", "channel": 7, "seq_no": 1}'
    async with tone_server() as upstream, injecting_proxy(upstream, "AudioAdded", bad) as url:
        run = await smnb_transcribe(tones, "--url", url, "--pace", "fast")
    assert run.code == 0, run.stderr
    assert run.stdout == "Alpha. Bravo. Charlie. Delta.\n"
    assert "warning: ChannelAudioAdded.channel must be a string, not 7" in run.stderr
