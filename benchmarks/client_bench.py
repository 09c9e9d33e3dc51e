"""Benchmark: smnb's client against the official ``speechmatics-rt`` client, same session.

A tiny local replay server plays back one scripted hour of RT v2 traffic (the
session of :func:`tables_bench.script_session`: an ``AudioAdded`` per 100 ms
frame, partials every 0.35 s, finals every ~1.5 s, ``EndOfUtterance``): every
binary frame a client sends is acknowledged at once, followed by the messages
the script has due before the next frame; ``EndOfStream`` releases the rest and
``EndOfTranscript``. Each client streams the same hour of silence at ``fast``
pace to it, in its own child process, so CPU time and memory are its own:

- ``raw``: a bare ``websockets`` loop (no compression, as smnb) that sends the
  frames and ``json.loads`` each message: the floor every client pays;
- ``smnb``: :class:`smnb.session.transport.SessionRunner` recording into a ``Recorder``;
- ``smnb+jsonl``: the same with ``messages.jsonl`` written as messages arrive;
- ``speechmatics-rt``: ``AsyncClient.transcribe`` with one handler per message
  type appending ``(perf_counter(), message)`` to a list (what a user does to
  keep the messages for analysis).

Reported per client: wall and CPU seconds of the session, CPU µs per received
message above the ``raw`` floor (the handling overhead), and memory: RSS
growth while streaming (peak) and retained after it. Then the analysis step:
time and peak traced memory to build every smnb table from the recorder, and
for the official client the nearest equivalent (a words DataFrame from its
message list). Finally the in-process cost of one ``record_*`` call.

    python benchmarks/client_bench.py [--seconds 3600] [--json results.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tables_bench  # a sibling script, not a package

FRAME = bytes(tables_bench.BYTES_PER_CHUNK)  # 100 ms of 16 kHz silence, shared by every frame
CLIENTS = ("raw", "smnb", "smnb+jsonl", "speechmatics-rt")
PAGE = resource.getpagesize()


# --- the replay server ----------------------------------------------------------------


def server_script(seconds: float) -> tuple[list[str], list[list[str]], list[str]]:
    """(before audio, after frame k, after EndOfStream) as pre-encoded JSON texts."""
    steps = tables_bench.script_session(seconds)
    n = round(seconds / tables_bench.CHUNK_S)
    dues = [0.5 + (k + 1) * tables_bench.CHUNK_S for k in range(n)]
    start: list[str] = []
    per_frame: list[list[str]] = [[] for _ in range(n)]
    tail: list[str] = []
    k = 0
    for t, kind, msg in steps:
        if kind != "recv" or msg["message"] in ("AudioAdded", "EndOfTranscript"):
            continue
        text = json.dumps(msg)
        if msg["message"] == "RecognitionStarted":
            start.append(text)
            continue
        while k < n - 1 and t > dues[k + 1]:
            k += 1
        (tail if t > dues[-1] else per_frame[k]).append(text)
    return start, per_frame, tail


async def serve(seconds: float) -> None:
    from websockets.asyncio.server import ServerConnection
    from websockets.asyncio.server import serve as ws_serve

    start, per_frame, tail = server_script(seconds)

    async def handler(ws: ServerConnection) -> None:
        frames = 0
        async for frame in ws:
            if isinstance(frame, bytes):
                await ws.send(f'{{"message": "AudioAdded", "seq_no": {frames + 1}}}')
                for text in per_frame[min(frames, len(per_frame) - 1)]:
                    await ws.send(text)
                frames += 1
            elif '"StartRecognition"' in frame:
                for text in start:
                    await ws.send(text)
            elif '"EndOfStream"' in frame:
                for text in tail:
                    await ws.send(text)
                await ws.send('{"message": "EndOfTranscript"}')

    async with ws_serve(handler, "127.0.0.1", 0, max_size=None) as server:
        print(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/v2", flush=True)
        await asyncio.Future()


# --- the clients (one per child process) --------------------------------------------------


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def run_raw(url: str, frames: int) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    received = 0
    async with connect(url, max_size=None, compression=None) as ws:
        await ws.send(json.dumps(_start_message()))
        while json.loads(await ws.recv())["message"] != "RecognitionStarted":
            received += 1
        received += 1

        async def pump() -> None:
            for _ in range(frames):
                await ws.send(FRAME)
            await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": frames}))

        task = asyncio.create_task(pump())
        while True:
            msg = json.loads(await ws.recv())
            received += 1
            if msg["message"] == "EndOfTranscript":
                break
        await task
    return {"received": received}


class Silence:
    """An AudioSource of shared zero frames (no per-frame allocation)."""

    chunk_seconds = tables_bench.CHUNK_S
    live = False
    name = "silence"

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.audio_format = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16_000}

    async def chunks(self) -> AsyncIterator[Any]:
        from smnb.audio import Chunk

        step = self.chunk_seconds
        for k in range(self.frames):
            yield Chunk(FRAME, k * step, (k + 1) * step)

    def stop(self) -> None:
        self.frames = 0


async def run_smnb(url: str, frames: int, jsonl: bool) -> dict[str, Any]:
    from smnb import tables
    from smnb.recorder import JsonlWriter, Recorder
    from smnb.session.transport import SessionRunner

    recorder = Recorder()
    with tempfile.TemporaryDirectory() as tmp:
        writer = JsonlWriter(Path(tmp) / "messages.jsonl") if jsonl else None
        if writer is not None:
            recorder.subscribe(writer)
        runner = SessionRunner(url, Silence(frames), _start_message(), recorder, pace="fast")
        before, cpu, wall = rss(), time.process_time(), time.perf_counter()
        await runner.run()
        out = _measure(before, cpu, wall)
        if writer is not None:
            writer.close()
            out["jsonl_bytes"] = (Path(tmp) / "messages.jsonl").stat().st_size
    out["received"] = sum(1 for r in recorder.records if r.direction == "recv")
    out["records"] = len(recorder)
    records = recorder.snapshot()
    out["analysis"] = _traced(lambda: tables.all_tables(records))
    return out


async def run_official(url: str, frames: int) -> dict[str, Any]:
    from speechmatics.rt import (
        AsyncClient,
        AudioEncoding,
        AudioFormat,
        ServerMessageType,
        TranscriptionConfig,
    )

    messages: list[tuple[float, dict[str, Any]]] = []
    clock = time.perf_counter

    def keep(msg: dict[str, Any]) -> None:
        messages.append((clock(), msg))

    class Zeros:
        def __init__(self, n: int) -> None:
            self.left = n

        def read(self, size: int) -> bytes:
            if self.left <= 0:
                return b""
            self.left -= 1
            return FRAME

    fmt = AudioFormat(encoding=AudioEncoding.PCM_S16LE, sample_rate=16_000, chunk_size=len(FRAME))
    config = TranscriptionConfig(language="en", enable_partials=True, max_delay=1.0)
    before, cpu, wall = rss(), time.process_time(), time.perf_counter()
    async with AsyncClient(api_key="local", url=url) as client:
        for kind in ServerMessageType:
            client.on(kind, keep)
        await client.transcribe(Zeros(frames), transcription_config=config, audio_format=fmt)
    out = _measure(before, cpu, wall)
    out["received"] = len(messages)
    out["analysis"] = _traced(lambda: _official_words(messages))
    return out


def _official_words(messages: list[tuple[float, dict[str, Any]]]) -> Any:
    import pandas as pd

    rows = [
        {
            "content": r["alternatives"][0]["content"],
            "type": r["type"],
            "start_time": r["start_time"],
            "end_time": r["end_time"],
            "received": t,
        }
        for t, msg in messages
        if msg["message"] == "AddTranscript"
        for r in msg["results"]
    ]
    return pd.DataFrame(rows)


def _start_message() -> dict[str, Any]:
    return {
        "message": "StartRecognition",
        "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16_000},
        "transcription_config": {"language": "en", "enable_partials": True, "max_delay": 1.0},
    }


def _measure(before: int, cpu: float, wall: float) -> dict[str, Any]:
    out = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    gc.collect()
    out["rss_peak_growth"] = max(0, peak_rss() - before)
    out["rss_retained"] = max(0, rss() - before)
    return out


def _traced(build: Any) -> dict[str, float]:
    gc.collect()
    start = time.perf_counter()
    built = build()
    seconds = time.perf_counter() - start
    del built
    gc.collect()
    tracemalloc.start()
    built = build()
    peak = tracemalloc.get_traced_memory()[1]
    del built
    tracemalloc.stop()
    return {"seconds": seconds, "peak_bytes": peak}


def run_client(name: str, url: str, seconds: float) -> dict[str, Any]:
    frames = round(seconds / tables_bench.CHUNK_S)
    if name == "raw":
        before, cpu, wall = rss(), time.process_time(), time.perf_counter()
        out = asyncio.run(run_raw(url, frames))
        return {**out, **_measure(before, cpu, wall)}
    if name.startswith("smnb"):
        return asyncio.run(run_smnb(url, frames, jsonl=name.endswith("jsonl")))
    return asyncio.run(run_official(url, frames))


# --- the driver ----------------------------------------------------------------------------


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.seconds))
        return
    if args.client:
        print(json.dumps(run_client(args.client, args.url, args.seconds)))
        return

    server = child("--serve", "--seconds", str(args.seconds))
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        results: dict[str, Any] = {}
        for name in CLIENTS:
            proc = child("--client", name, "--url", url, "--seconds", str(args.seconds))
            stdout, _ = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(f"{name} failed (exit {proc.returncode})")
            results[name] = json.loads(stdout)
    finally:
        server.kill()
        server.wait()
    results["record_call_us"] = _record_cost(args.seconds)
    report(results, args.seconds)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


def _record_cost(seconds: float) -> dict[str, float]:
    from smnb.recorder import JsonlWriter

    steps = tables_bench.script_session(seconds)
    plain = tables_bench.bench_recording(steps)
    with tempfile.TemporaryDirectory() as tmp:
        writer = JsonlWriter(Path(tmp) / "m.jsonl")
        with_jsonl = tables_bench.bench_recording(steps, writer)
        writer.close()
    return {"record": plain * 1e6, "record+jsonl": with_jsonl * 1e6}


def report(results: dict[str, Any], seconds: float) -> None:
    mib = 2**20
    floor = results["raw"]
    n = floor["received"]
    print(
        f"one session: {seconds:.0f} s of audio at fast pace, {n} server messages, "
        f"{round(seconds / tables_bench.CHUNK_S)} audio frames"
    )
    print(
        f"{'client':<16}{'wall s':>8}{'cpu s':>8}{'µs/msg over raw':>17}"
        f"{'RSS peak +MiB':>15}{'kept +MiB':>11}"
    )
    for name in CLIENTS:
        r = results[name]
        assert r["received"] == n, f"{name} received {r['received']} of {n} messages"
        over = (r["cpu_s"] - floor["cpu_s"]) / n * 1e6
        print(
            f"{name:<16}{r['wall_s']:>8.2f}{r['cpu_s']:>8.2f}{over:>17.1f}"
            f"{r['rss_peak_growth'] / mib:>15.1f}{r['rss_retained'] / mib:>11.1f}"
        )
    smnb, official = results["smnb"]["analysis"], results["speechmatics-rt"]["analysis"]
    print(
        f"smnb: all 7 tables from {results['smnb']['records']} records in "
        f"{smnb['seconds']:.2f} s, peak {smnb['peak_bytes'] / mib:.0f} MiB traced"
    )
    print(
        f"speechmatics-rt: a words DataFrame from its message list in "
        f"{official['seconds']:.2f} s, peak {official['peak_bytes'] / mib:.0f} MiB traced"
    )
    cost = results["record_call_us"]
    print(
        f"Recorder.record_* alone: {cost['record']:.2f} µs/record, "
        f"with JsonlWriter {cost['record+jsonl']:.2f} µs/record"
    )


if __name__ == "__main__":
    main()
