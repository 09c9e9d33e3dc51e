"""``smnb serve`` as a separate process, watched through ``/proc``, for fault tests.

A server in its own process can be measured honestly (its open files, its memory, its
peak memory, its worker processes) and hurt without hurting the test runner.
:class:`ServeProcess` starts one on a free loopback port; :func:`transcribe` runs one
normal session against it with a plain WebSocket client.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "smnb" / "samples"


class ServeProcess:
    """``smnb -v serve --port 0 ARGS`` until :meth:`stop`; its log goes to ``log_path``."""

    def __init__(self, *args: str, log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("w")
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "smnb", "-v", "serve", "--port", "0", *args],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=self._log, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("ws://"):
            self.stop()
            raise RuntimeError(f"smnb serve did not start:\n{self.log()}")
        self.pid = self.proc.pid

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def workers(self) -> set[int]:
        """Process ids of the server's children (its engine workers)."""
        pids: set[int] = set()
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            pids |= {int(p) for p in (task / "children").read_text().split()}
        return pids

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def memory_mb(self) -> tuple[float, float]:
        """(resident, peak resident) MB of the server process itself."""
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines()
        )
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024

    def wait_for_workers(self, count: int, timeout: float = 30) -> set[int]:
        deadline = time.monotonic() + timeout
        while (workers := self.workers()) and len(workers) != count:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        return workers

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def start_message(**audio_format: Any) -> str:
    fmt = audio_format or {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
    return json.dumps({
        "message": "StartRecognition",
        "audio_format": fmt,
        "transcription_config": {"language": "en", "max_delay": 2.0},
    })  # fmt: skip


async def recv_json(ws: ClientConnection, timeout: float = 30) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(frame, str), "server messages are text frames"
    msg: dict[str, Any] = json.loads(frame)
    return msg


def pcm_of(name: str) -> bytes:
    with wave.open(str(SAMPLES / f"{name}.wav"), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        return wav.readframes(wav.getnframes())


async def transcribe(url: str, name: str, *, chunk: int = 3200) -> str:
    """One whole session as fast as the server takes it; the final transcript."""
    pcm = pcm_of(name)
    async with connect(url) as ws:
        await ws.send(start_message())
        while (await recv_json(ws))["message"] != "RecognitionStarted":
            pass
        for i in range(0, len(pcm), chunk):
            await ws.send(pcm[i : i + chunk])
        await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": 0}))
        text = []
        while (msg := await recv_json(ws))["message"] != "EndOfTranscript":
            assert msg["message"] != "Error", msg
            if msg["message"] == "AddTranscript":
                text.append(msg["metadata"]["transcript"])
    return "".join(text)
