"""``smnb transcribe`` as a user runs it: a subprocess against the real local server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from smnb.protocol.config import DIARIZATION_MODES, MAX_DELAY_MODES, MODELS
from tests.support.client import FailingEngine, injecting_proxy, tone_server, tone_wav
from tests.support.proxy import Cut, ResettingProxy

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


SPEECH = Path(__file__).resolve().parents[2] / "smnb" / "samples" / "librivox-ss01-0880.wav"


@pytest.mark.parametrize("print_json", [True, False], ids=["print-json", "text"])
def test_a_closed_stdout_stops_printing_quietly_and_keeps_the_log(
    tmp_path: Path, print_json: bool
) -> None:
    out = tmp_path / "out"
    args = [*CLI, str(SPEECH), "--pace", "fast", "--out", str(out)]
    proc = subprocess.Popen(
        args + ["--print-json"] * print_json,  # the embedded local server
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(None),
    )
    assert proc.stdout is not None and proc.stderr is not None
    if print_json:
        assert json.loads(proc.stdout.readline())["message"]  # `| head -1`
    proc.stdout.close()  # the reader goes away
    err = proc.stderr.read().decode()
    assert proc.wait(240) == 141, err  # 128 + SIGPIPE, like a Unix tool
    assert err == "", err  # no traceback, no line per record
    log = [json.loads(line) for line in (out / "messages.jsonl").read_text().splitlines()]
    received = [r["type"] for r in log if r["dir"] == "recv"]
    assert received[-1] == "EndOfTranscript" and received.count("AddTranscript") > 1
    assert (out / "summary.json").exists()  # the session ran to its end


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
        (
            ["TONES", "--channel-labels", "a,b"],
            "channel_diarization_labels needs diarization 'channel' or 'channel_and_speaker'",
        ),
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


async def test_speechmatics_rt_url_is_used_without_a_key(tones: Path) -> None:
    async with tone_server() as url:  # an on-prem container needs no key
        run = await smnb_transcribe(tones, "--pace", "fast", env={"SPEECHMATICS_RT_URL": url})
    assert run.code == 0, run.stderr
    assert run.stdout == "Alpha. Bravo. Charlie. Delta.\n"  # the tone server's words
    refused = await smnb_transcribe(tones, env={"SPEECHMATICS_RT_URL": "ws://127.0.0.1:1/v2"})
    assert refused.code == 1 and "cannot connect to ws://127.0.0.1:1/v2" in refused.stderr


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
        "--no-reconnect",
        "exit codes",
    ):
        assert flag in run.stdout, flag
    # Every default printed is true: none for unset options, the server's where it decides.
    text = " ".join(run.stdout.split())  # argparse wraps lines
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "--url URL ws:// or wss:// RT v2 endpoint (default: see above) --temp-key" in text
    assert "--max-delay S max_delay, 0.7–4 s (default: not sent, so the server's: 4)" in text
    assert "(default: not sent, so the server's: flexible)" in text
    assert "--chunk-seconds S audio per frame (default: 0.1)" in text


async def test_the_choices_are_the_validators_own() -> None:
    run = await smnb_transcribe("--help")
    for flag, values in (
        ("--model", MODELS),
        ("--diarization", DIARIZATION_MODES),
        ("--max-delay-mode", MAX_DELAY_MODES),
    ):
        assert f"{flag} {{{','.join(values)}}}" in run.stdout, flag
    assert "melia-1" in MODELS


async def test_a_survived_problem_is_a_warning_and_the_run_succeeds(tones: Path) -> None:
    bad = '{"message": "ChannelAudioAdded", "channel": 7, "seq_no": 1}'
    async with tone_server() as upstream, injecting_proxy(upstream, "AudioAdded", bad) as url:
        run = await smnb_transcribe(tones, "--url", url, "--pace", "fast")
    assert run.code == 0, run.stderr
    assert run.stdout == "Alpha. Bravo. Charlie. Delta.\n"
    assert "warning: ChannelAudioAdded.channel must be a string, not 7" in run.stderr


async def test_server_text_cannot_forge_lines_escapes_or_show_the_key(tones: Path) -> None:
    key = "sk-cli-ECHO-ü-0123456789"
    error = json.dumps(
        {"message": "Error", "type": "job_error", "reason": f"boom {key}\nsecond line\r\nthird"}
    )
    async with tone_server() as upstream, injecting_proxy(upstream, "AudioAdded", error) as url:
        failed = await smnb_transcribe(
            tones, "--url", url, "--pace", "fast", env={"SPEECHMATICS_API_KEY": key}
        )
    assert failed.code == 1
    assert failed.stderr == (
        "smnb transcribe: server error job_error: boom <redacted> second line third\n"
    )
    garbage = "not json\nsmnb transcribe: forged line \x1b[31mred\x1b[0m"
    async with tone_server() as upstream, injecting_proxy(upstream, "AudioAdded", garbage) as url:
        survived = await smnb_transcribe(tones, "--url", url, "--pace", "fast")
    assert survived.code == 0, survived.stderr
    (warning,) = survived.stderr.splitlines()
    assert warning.startswith("smnb transcribe: warning: frame is not JSON: not json")
    assert "\x1b" not in survived.stderr and "forged line red" in warning


# --- reconnecting ---------------------------------------------------------------------

SAMPLES = Path(__file__).resolve().parents[2] / "smnb" / "samples"


async def test_a_60_s_stream_survives_a_reset_after_4_s(tmp_path: Path) -> None:
    """The measured target: one minute of real speech, the first connection reset after
    4 s; the run exits 0, its words reach the end of the audio on the original clock, and
    both the log and stderr record the reconnection."""
    from smnb.experiment.stitch import stitch
    from smnb.recorder import read_jsonl
    from smnb.server import serve

    clips = sorted(SAMPLES.glob("librivox-*.wav")) * 2  # 10 clips with word timings
    wav = stitch(clips, tmp_path / "minute.wav", gap_s=1.0, tail_s=2.0)
    reference = json.loads(wav.with_suffix(".words.json").read_text())
    duration = wav.stat().st_size / 32_000
    assert 55 < duration < 65
    out = tmp_path / "out"
    async with serve() as upstream:  # the real recognizer
        proxy = ResettingProxy(upstream, {0: Cut("after", 4.0)})
        async with proxy.running() as url:
            run = await smnb_transcribe(wav, "--url", url, "--pace", "fast", "--out", out)
    assert run.code == 0, run.stderr
    assert [p.reset for p in proxy.passages] == [True, False]
    assert "reconnecting to ws://127.0.0.1:" in run.stderr and "reconnected after" in run.stderr
    log = read_jsonl(out / "messages.jsonl").records
    (note,) = [r.payload for r in log if r.type == "Reconnect"]
    assert note["old_session_id"] != note["new_session_id"] and note["resent_frames"] > 0
    # (The offset is where the last final before the reset ended: 0 when none had come.)
    words = [w for w in _csv_rows(out / "words.csv") if w["type"] == "word"]
    last_ref_end = max(float(w["end"]) for w in reference)
    assert max(float(w["end_time"]) for w in words) > last_ref_end - 1.5  # to the end
    # On the original clock: words of the new session sit where the reference says.
    later = [w for w in words if float(w["start_time"]) >= note["audio_offset"]]
    assert len(later) > 40

    def near_reference(word: dict[str, str]) -> bool:
        text, start = word["content"].lower(), float(word["start_time"])
        return any(
            r["word"].lower() == text and abs(float(r["start"]) - start) < 0.5 for r in reference
        )

    assert sum(near_reference(w) for w in later) >= 0.6 * len(later)
    connections = _csv_rows(out / "connections.csv")
    assert [c["connection"] for c in connections] == ["0", "1"]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(newline="") as f:
        return list(csv.DictReader(f))


async def test_no_reconnect_ends_the_run_at_the_drop(tones: Path) -> None:
    async with tone_server() as upstream:
        proxy = ResettingProxy(upstream, {0: Cut("frames", count=10)})
        async with proxy.running() as url:
            run = await smnb_transcribe(tones, "--url", url, "--no-reconnect")  # real time
    assert run.code == 1
    assert "connection closed while streaming audio (code 1006)" in run.one_line_error()
    assert len(proxy.passages) == 1


# --- keys of every character class ------------------------------------------------------

ODD = "sk!odd$chars%20:&x=0123#TAIL"


def last_line(run: Run) -> str:
    """The one error line at the end of stderr (``-vv`` logs come before it)."""
    assert "Traceback" not in run.stderr, run.stderr
    line = run.stderr.strip().splitlines()[-1]
    assert line.startswith("smnb transcribe: "), run.stderr
    return line


def leaks(key: str, text: str, width: int = 6) -> list[str]:
    """Every piece of ``key`` (``width`` characters or more) found in ``text``."""
    return [key[i : i + width] for i in range(len(key) - width + 1) if key[i : i + width] in text]


@pytest.mark.parametrize("key", [ODD, "sk\"quote'd`back\\slash<x>", "sk-ünïcødé-ß-µ-latin1"])
async def test_an_odd_key_never_shows_in_verbose_logs_or_out_files(
    key: str, tones: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    async with tone_server(api_key=key) as url:
        ok = await smnb_transcribe(
            tones, "--url", url, "--pace", "fast", "--out", out, "-vv",
            env={"SPEECHMATICS_API_KEY": key},
        )  # fmt: skip
        denied = await smnb_transcribe(
            tones, "--url", url, "-vv", env={"SPEECHMATICS_API_KEY": key + "-wrong"}
        )
    assert ok.code == 0, ok.stderr
    assert "Authorization: Bearer <redacted>" in ok.stderr  # logged at -vv, redacted
    assert denied.code == 1 and "rejected the credentials" in last_line(denied)
    texts = [ok.stdout, ok.stderr, denied.stdout, denied.stderr]
    texts += [p.read_text() for p in out.iterdir()]
    assert [leaks(key, text) for text in texts] == [[]] * len(texts)


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("sk with spaces inside", "whitespace"),
        ("sk-ключ-секрет-鍵-🔑", "characters an HTTP header cannot carry"),
    ],
)
async def test_an_unusable_key_is_refused_without_showing_it(
    key: str, why: str, tones: Path
) -> None:
    run = await smnb_transcribe(tones, "-vv", env={"SPEECHMATICS_API_KEY": key})
    assert run.code == 1 and why in last_line(run)
    assert leaks(key, run.stdout + run.stderr) == []


async def test_a_key_given_as_url_userinfo_is_never_echoed(tones: Path, tmp_path: Path) -> None:
    bad = await smnb_transcribe(tones, "--url", f"ws://u:{ODD}@127.0.0.1:9/v2", "-vv")
    assert bad.code == 2
    line = last_line(bad)
    assert "not a WebSocket URL: ws://127.0.0.1:9/v2" in line and "percent-encode" in line
    assert leaks(ODD, bad.stdout + bad.stderr) == []
    # A well-formed one works (sent as HTTP Basic) and shows nowhere either.
    secret = "Qx7~!$pw-Zz9-kV"
    out = tmp_path / "out"
    async with tone_server() as url:
        with_userinfo = url.replace("ws://", f"ws://me:{secret}@")
        ok = await smnb_transcribe(
            tones, "--url", with_userinfo, "--pace", "fast", "--out", out, "-vv"
        )
    assert ok.code == 0, ok.stderr
    texts = [ok.stdout, ok.stderr, *(p.read_text() for p in out.iterdir())]
    assert [leaks(secret, text) for text in texts] == [[]] * len(texts)
    assert "me:" not in (out / "messages.jsonl").read_text()


@pytest.mark.slow
async def test_the_readme_command_on_the_embedded_server_prints_only_the_transcript() -> None:
    """The README's main command, no key and no url: the transcript on stdout, nothing on
    stderr, and the embedded server with its workers stopped cleanly at exit."""
    sample = Path(__file__).resolve().parents[2] / "smnb" / "samples" / "librivox-ss01-0870.wav"
    run = await smnb_transcribe(sample, env={"PYTHONPATH": str(sample.parents[2])})
    assert run.code == 0, run.stderr
    assert run.stderr == "", run.stderr
    assert "dashwood" in run.stdout.lower(), run.stdout
