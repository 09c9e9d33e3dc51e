"""``smnb serve`` as a user runs it: a real process on loopback, real clients, signals.

The server prints its URL once it accepts connections; official clients work against it
unchanged; SIGINT or SIGTERM stop it with exit code 0; bad flags exit 2 with a one-line
message naming the problem.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from smnb.cli.main import EXIT_BAD_INPUT, main
from smnb.cli.serve import API_KEY_ENV, api_key, register
from smnb.exceptions import ConfigError
from tests.support.engine_audio import SAMPLES, duration, reference

REPO = Path(__file__).resolve().parents[2]
START = {
    "message": "StartRecognition",
    "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000},
    "transcription_config": {"language": "en", "max_delay": 1.0},
}
CLIP = "librispeech-1988-24833-0000"  # 3.3 s of real speech


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), 10)
    assert isinstance(frame, str), "server messages must be text frames"
    msg: dict[str, Any] = json.loads(frame)
    return msg


async def until(ws: ClientConnection, kind: str) -> list[dict[str, Any]]:
    """Every message up to and including the first of ``kind``."""
    out = []
    while True:
        out.append(await recv_json(ws))
        if out[-1]["message"] == kind:
            return out


def start_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen(
        # One spare recognizer: these servers see one session at a time, not bursts.
        [sys.executable, "-m", "smnb", "serve", "--port", "0", "--spare-workers", "1", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # our signal goes to the server alone, as from a terminal
    )


KEY = "serve-test-key-0123456789"


def start_run(*args: str) -> subprocess.Popen[str]:
    """``smnb serve ARGS`` that is expected to exit by itself."""
    return subprocess.Popen(
        [sys.executable, "-m", "smnb", "serve", *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


BUSY = socket.socket()  # a port some other program listens on
BUSY.bind(("127.0.0.1", 0))
BUSY.listen()


@pytest.fixture(scope="module")
def processes() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """Every process this module's tests look at, started at once: each takes seconds."""
    procs = {
        "SIGTERM": start_cli("--max-sessions", "2"),
        "SIGINT": start_cli("--max-sessions", "2"),
        "key": start_cli(env={"SMNB_SERVE_API_KEY": KEY}),  # kept out of ps
        "help": start_run("--help"),
        "bad": start_run("--max-sessions", "0"),
        "busy": start_run("--port", str(BUSY.getsockname()[1]), "-vv"),
    }
    try:
        yield procs
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=30)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_smnb_serve_prints_url_then_stops_cleanly(
    sig: signal.Signals, processes: dict[str, subprocess.Popen[str]]
) -> None:
    proc = processes[sig.name]
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
        url = line.strip()
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/v2"), line
        async with connect(url) as ws:  # it accepts connections once the URL is printed
            assert (await recv_json(ws))["type"] == "concurrent_session_usage"
            await ws.send(json.dumps(START))
            assert (await until(ws, "RecognitionStarted"))[-1]["id"]
            os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
            with pytest.raises(ConnectionClosed):  # the open session is told why it ends
                while True:
                    await asyncio.wait_for(ws.recv(), 30)
            assert (ws.close_code, ws.close_reason) == (1001, "the server is shutting down")
        code = await asyncio.to_thread(proc.wait, 30)
        stderr = proc.stderr.read() if proc.stderr else ""
        assert code == 0, stderr
        assert "Traceback" not in stderr
        assert "smnb serve: capacity " in stderr and "concurrent real-time session" in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_the_official_client_transcribes_real_speech_with_the_api_key(
    processes: dict[str, subprocess.Popen[str]],
) -> None:
    from speechmatics.rt import AsyncClient, AudioEncoding, AudioFormat, TranscriptionConfig

    key = KEY
    proc = processes["key"]
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
        url = line.strip()
        with pytest.raises(InvalidStatus) as refused:  # no key, no session
            async with connect(url):
                pass
        assert refused.value.response.status_code == 401

        finals: list[str] = []
        ends: list[float] = []
        with wave.open(str(SAMPLES / f"{CLIP}.wav")) as wav:
            pcm = io.BytesIO(wav.readframes(wav.getnframes()))
        async with AsyncClient(api_key=key, url=url) as client:
            client.on("AddTranscript", lambda m: finals.append(m["metadata"]["transcript"]))
            client.on("AddTranscript", lambda m: ends.extend(r["end_time"] for r in m["results"]))
            await asyncio.wait_for(
                client.transcribe(
                    pcm,
                    transcription_config=TranscriptionConfig(language="en", max_delay=2.0),
                    audio_format=AudioFormat(AudioEncoding.PCM_S16LE, 16000, chunk_size=3200),
                ),
                60,
            )
        heard = set("".join(finals).lower().replace(".", " ").replace(",", " ").split())
        spoken = set(reference(CLIP).lower().split())
        assert len(heard & spoken) >= 0.6 * len(spoken), (finals, spoken)
        assert ends and 0.0 < max(ends) <= duration(CLIP) + 0.01  # audio time, not wall time

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
        code = await asyncio.to_thread(proc.wait, 30)
        stdout, stderr = proc.communicate(timeout=10)
        assert code == 0, stderr
        assert "Traceback" not in stderr and "smnb serve: stopped" in stderr
        assert stdout == ""  # the URL was the only line on stdout
        assert key not in line + stdout + stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def help_text(processes: dict[str, subprocess.Popen[str]]) -> str:
    out, err = processes["help"].communicate(timeout=60)
    assert processes["help"].returncode == 0, err
    return out


def test_smnb_serve_help_describes_every_option(help_text: str) -> None:
    out = help_text
    for option in (
        "--host",
        "--port",
        "--api-key",
        "--max-sessions",
        "--allow-remote",
        "--idle-timeout",
        "--max-session-length",
        "--capacity",
        "--spare-workers",
    ):
        assert option in out


def test_smnb_serve_help_describes_the_replay_options(help_text: str) -> None:
    out = help_text
    assert "--replay PATH" in out and "--replay-audio FILE" in out
    assert "SaaS" in out


BAD_FLAGS = {
    "not-a-port": (["--port", "nine"], "argument --port: must be a TCP port number 0-65535"),
    "port-too-big": (["--port", "70000"], "must be a TCP port number 0-65535, not '70000'"),
    "negative-port": (["--port", "-1"], "must be a TCP port number 0-65535, not '-1'"),
    "unknown-flag": (["--verbose-please"], "unrecognized arguments: --verbose-please"),
    "remote-without-key": (["--host", "0.0.0.0"], "reachable from other machines"),
    "no-sessions": (["--max-sessions", "0"], "max_sessions must be at least 1, not 0"),
    "audio-without-replay": (["--replay-audio", "x.wav"], "--replay-audio needs --replay"),
    "missing-recording": (["--replay", "no/such.jsonl"], "replay: no such recording"),
}


@pytest.mark.parametrize(("argv", "problem"), BAD_FLAGS.values(), ids=BAD_FLAGS.keys())
def test_bad_flags_exit_2_with_one_line_naming_the_problem(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:  # in-process, as `python -m smnb` runs it: sys.exit(main())
        code = main(["serve", *argv])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code  # type: ignore[assignment]
    out, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT == 2, err
    assert out == ""  # no URL: nothing was served
    lines = err.strip().splitlines()
    if lines[0].startswith("usage:"):  # argparse puts its usage before the message
        lines = [ln for ln in lines if ln.startswith("smnb")]
    assert len(lines) == 1 and problem in lines[0], err


def test_a_real_process_exits_2_on_bad_flags_too(
    processes: dict[str, subprocess.Popen[str]],
) -> None:
    proc = processes["bad"]  # smnb serve --max-sessions 0
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == ""
    assert err == "smnb serve: max_sessions must be at least 1, not 0\n"


def test_a_busy_port_is_one_line_with_what_to_do(
    processes: dict[str, subprocess.Popen[str]],
) -> None:
    proc = processes["busy"]  # smnb serve --port <in use> -vv (-v after the subcommand)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and out == ""
    port = BUSY.getsockname()[1]
    line = f"smnb serve: cannot listen on 127.0.0.1:{port}: address already in use (try --port 0)"
    assert err.splitlines()[-1] == line, err
    assert "Traceback" not in err
    assert "DEBUG asyncio: Using selector" in err  # -vv after the subcommand: debug logs


# --- where the key comes from ---------------------------------------------------------


def _key_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["serve", *argv])


def test_the_key_comes_from_the_environment_or_a_file_and_the_flag_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "sk!odd$chars%20:&x=0123#TAIL"
    env = {API_KEY_ENV: f" {key}\n"}
    assert api_key(_key_args(), env) == key
    assert api_key(_key_args(), {}) is None
    path = tmp_path / "key.txt"
    path.write_text(f"{key}\nignored second line\n", encoding="utf-8")
    assert api_key(_key_args("--api-key-file", str(path)), env) == key
    assert capsys.readouterr().err == ""  # neither way warns
    assert api_key(_key_args("--api-key", "sk-flag-123456"), env) == "sk-flag-123456"
    warning = capsys.readouterr().err
    assert warning.count("\n") == 1 and "--api-key is visible to every user" in warning
    assert API_KEY_ENV in warning and "sk-flag" not in warning


@pytest.mark.parametrize(
    ("argv", "env", "problem"),
    [
        (["--api-key-file", "{tmp}/missing"], {}, "missing: No such file or directory"),
        (["--api-key-file", "{tmp}/empty"], {}, "empty: the file holds no key"),
        ([], {API_KEY_ENV: "  "}, "SMNB_SERVE_API_KEY is set but empty"),
    ],
)
def test_a_bad_key_source_is_one_clear_line(
    tmp_path: Path, argv: list[str], env: dict[str, str], problem: str
) -> None:
    (tmp_path / "empty").write_text("\n\n", encoding="utf-8")
    args = _key_args(*(a.format(tmp=tmp_path) for a in argv))
    with pytest.raises(ConfigError, match=problem):
        api_key(args, env)


def test_the_flag_and_the_file_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _key_args("--api-key", "a-key-123", "--api-key-file", "/k")
    assert "not allowed with argument" in capsys.readouterr().err
