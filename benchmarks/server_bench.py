"""How fast is the local RT v2 server, how many live sessions does it admit, and do bombs hurt?

Runs ``smnb.server.serve()`` in this process, with the engine pool as ``smnb serve``
configures it (capacity measured on this machine, that many recognizers kept loaded,
sessions beyond it refused with ``quota_exceeded``), on loopback, and measures with plain
WebSocket clients:

1. **Real-time factor of one stream**: a recording sent as fast as possible;
   RTF = wall seconds from the first frame to ``EndOfTranscript`` / audio seconds.
2. **N sessions at once** (``--at-once``, default 10 and 16): N clients connect together
   and stream audio at real-time pace (0.1 s chunks on absolute deadlines, like a
   microphone). Refused sessions are counted; for every final word of an admitted one,
   latency = wall time the word arrived − wall time the chunk holding its last sample
   was sent. The bound holds when p95 ≤ ``max_delay``.
3. **Bombs**: while a real-time probe session streams, a raw μ-law stream declared at
   1000 Hz, a WAV header declaring 1 Hz, and one 16 MiB frame of 8 kHz μ-law noise
   (35 minutes of audio). Prints what the server answered, its peak memory, and the
   longest the probe waited for an ``AudioAdded``.
4. ``--ramp``: the largest N whose p95 stays within ``max_delay`` with admission off
   (capacity forced high), stepping N = 1, 2, 4, 6, 8, …

Usage::

    python benchmarks/server_bench.py [--seconds 20] [--max-delay 2.0] [--at-once 10 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from websockets.asyncio.client import connect

from smnb.server import serve
from smnb.server.engine.pool import EnginePool

SAMPLE = Path(__file__).resolve().parents[1] / "smnb" / "samples" / "two-speakers.wav"
CHUNK_SECONDS = 0.1
RATE = 16000


@dataclass
class Run:
    """What one session observed."""

    audio_seconds: float
    wall_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    words: int = 0
    refused: str | None = None


def start_message(max_delay: float, **audio_format: object) -> str:
    fmt = audio_format or {"type": "raw", "encoding": "pcm_s16le", "sample_rate": RATE}
    return json.dumps({
        "message": "StartRecognition",
        "audio_format": fmt,
        "transcription_config": {"language": "en", "max_delay": max_delay,
                                 "max_delay_mode": "fixed"},
    })  # fmt: skip


async def session(url: str, pcm: bytes, *, max_delay: float, realtime: bool) -> Run:
    """One session; at real-time pace when ``realtime``, else as fast as possible."""
    chunk = int(CHUNK_SECONDS * RATE) * 2
    run = Run(audio_seconds=len(pcm) / 2 / RATE)
    sent_at: list[float] = []  # wall time each chunk was sent
    done = asyncio.Event()

    async with connect(url, max_size=None) as ws:
        await ws.send(start_message(max_delay))
        while (msg := json.loads(await ws.recv()))["message"] != "RecognitionStarted":
            if msg["message"] == "Error":
                run.refused = msg["type"]
                return run

        async def receive() -> None:
            async for frame in ws:
                msg = json.loads(frame)
                now = time.perf_counter()
                if msg["message"] == "AddTranscript":
                    for result in msg["results"]:
                        if result["type"] != "word":
                            continue
                        k = max(0, math.ceil(result["end_time"] / CHUNK_SECONDS - 1e-9) - 1)
                        if k < len(sent_at):
                            run.latencies.append(now - sent_at[k])
                        run.words += 1
                elif msg["message"] in ("EndOfTranscript", "Error"):
                    done.set()
                    return

        receiver = asyncio.create_task(receive())
        t0 = time.perf_counter()
        for k, i in enumerate(range(0, len(pcm), chunk)):
            if realtime:  # chunk k is complete (as from a microphone) at t0 + (k+1)·C
                await asyncio.sleep(max(0.0, t0 + (k + 1) * CHUNK_SECONDS - time.perf_counter()))
            sent_at.append(time.perf_counter())
            await ws.send(pcm[i : i + chunk])
        await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": len(sent_at)}))
        await asyncio.wait_for(done.wait(), 600)
        run.wall_seconds = time.perf_counter() - t0
        await receiver
    return run


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else float("nan")


async def at_once(url: str, pcm: bytes, n: int, max_delay: float, pool: EnginePool) -> bool:
    """``n`` real-time sessions connecting together; True if every admitted one held.

    Also prints the pool's cost estimate after them (it follows real-time sessions)."""
    runs = await asyncio.gather(
        *(session(url, pcm, max_delay=max_delay, realtime=True) for _ in range(n))
    )
    await asyncio.sleep(0.5)  # the server folds each session's cost when it closes it
    admitted = [r for r in runs if r.refused is None]
    refused = [r.refused for r in runs if r.refused is not None]
    lat = [x for r in admitted for x in r.latencies]
    worst = max((p95(r.latencies) for r in admitted if r.latencies), default=float("nan"))
    ok = bool(lat) and p95(lat) <= max_delay and worst <= max_delay
    print(f"{n:>3} {len(admitted):>8} {len(refused):>7} {len(lat):>6} "
          f"{statistics.median(lat) if lat else float('nan'):>7.2f} {p95(lat):>6.2f} "
          f"{worst:>10.2f} {max(lat, default=float('nan')):>6.2f}  "
          f"{'holds' if ok else 'MISSED'}  refused as: {sorted(set(refused)) or '-'}; "
          f"cost now {pool.cpu_per_audio_second or float('nan'):.3f}", flush=True)  # fmt: skip
    return ok


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def probe(url: str, seconds: float) -> float:
    """A real-time session; the longest wait for an ``AudioAdded``."""
    gaps: list[float] = []
    async with connect(url) as ws:
        await ws.send(start_message(2.0))
        while json.loads(await ws.recv())["message"] != "RecognitionStarted":
            pass
        start = time.perf_counter()
        for k in range(1, int(seconds / CHUNK_SECONDS) + 1):
            await asyncio.sleep(max(0.0, start + k * CHUNK_SECONDS - time.perf_counter()))
            sent = time.perf_counter()
            await ws.send(bytes(3200))
            while json.loads(await ws.recv())["message"] != "AudioAdded":
                pass
            gaps.append(time.perf_counter() - sent)
    return max(gaps)


async def bomb(url: str, start: str, payload: bytes, hold: float) -> str:
    """Send ``payload`` after ``start``; what the server answered within ``hold`` s."""
    async with connect(url, max_size=None, compression=None) as ws:
        await ws.send(start)
        while (msg := json.loads(await ws.recv()))["message"] not in (
            "RecognitionStarted",
            "Error",
        ):
            pass
        if msg["message"] == "Error":
            return f"{msg['type']}: {msg['reason']}"
        await ws.send(payload)
        try:
            async with asyncio.timeout(hold):
                while (msg := json.loads(await ws.recv()))["message"] != "Error":
                    pass
                return f"{msg['type']}: {msg['reason']}"
        except TimeoutError:
            return f"accepted; still decoding after {hold:g} s (then the client left)"


async def bombs(url: str) -> None:
    print("\nbombs, each while a real-time probe session streams:")
    wav = struct.pack("<HHIIHH", 1, 1, 1, 2, 2, 16)
    wav = b"RIFF\xff\xff\xff\xffWAVEfmt " + struct.pack("<I", 16) + wav + b"data\xff\xff\xff\xff"
    cases = [
        ("raw mu-law declared at 1000 Hz, 4 MiB frame",
         start_message(2.0, type="raw", encoding="mulaw", sample_rate=1000), os.urandom(4 << 20)),
        ("WAV header declaring 1 Hz (+3 KB)", start_message(2.0, type="file"),
         wav + os.urandom(3000)),
        ("raw mu-law at 8000 Hz, one 16 MiB frame (35 min)",
         start_message(2.0, type="raw", encoding="mulaw", sample_rate=8000), os.urandom(16 << 20)),
    ]  # fmt: skip
    for name, start, payload in cases:
        before = peak_rss_mb()
        watcher = asyncio.create_task(probe(url, 5.0))
        await asyncio.sleep(0.5)
        answer = await bomb(url, start, payload, hold=3.5)
        stall = await watcher
        print(f"  {name}\n    server: {answer}\n    server peak RSS {peak_rss_mb():.0f} MB "
              f"(before {before:.0f} MB); probe's longest wait for AudioAdded "
              f"{stall:.3f} s")  # fmt: skip


async def ramp(url: str, pcm: bytes, args: argparse.Namespace, pool: EnginePool) -> None:
    print(f"\n{'N':>3} {'admitted':>8} {'refused':>7} {'words':>6} {'median':>7} {'p95':>6} "
          f"{'worst p95':>10} {'max':>6}  bound")  # fmt: skip
    capacity, steps = 0, [1, 2, 4, *range(6, args.max_n + 1, 2)]
    refining = False
    while steps:
        n = steps.pop(0)
        if await at_once(url, pcm, n, args.max_delay, pool):
            capacity = n
        elif refining or n == capacity + 1:
            break
        else:  # the ramp jumped past the limit: try the N in between, then stop
            steps, refining = list(range(capacity + 1, n)), True
    print(f"\nramp: {capacity} concurrent real-time sessions hold p95 <= {args.max_delay} s")


async def main(args: argparse.Namespace) -> None:
    audio, rate = sf.read(SAMPLE, dtype="int16")
    assert rate == RATE
    pcm = audio[: int(args.seconds * RATE)].tobytes()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
          f"audio: {SAMPLE.name}, {len(pcm) / 2 / RATE:.1f} s")  # fmt: skip
    pool = EnginePool(capacity=64 if args.ramp else "measure", queue_timeout=0)
    async with serve(engine_factory=lambda: pool) as url:
        pool.keep_spares(max(args.at_once) if args.ramp else pool.capacity)
        print(f"engine capacity: {pool.describe()}")
        while len(pool.worker_pids) < min(pool.idle_workers, pool.capacity):
            await asyncio.sleep(0.2)  # as a running `smnb serve`: its recognizers loaded
        await session(url, pcm[: RATE * 2], max_delay=args.max_delay, realtime=False)  # warm-up
        fast = await session(url, pcm, max_delay=args.max_delay, realtime=False)
        rtf = fast.wall_seconds / fast.audio_seconds
        print(f"single stream, as fast as possible: RTF {rtf:.3f} ({1 / rtf:.1f}x real time, "
              f"{fast.words} words)")  # fmt: skip
        if args.ramp:
            await ramp(url, pcm, args, pool)
            return
        print(f"\nN sessions at once, real time, max_delay {args.max_delay} s (fixed); latency = "
              "final word arrival - send time of its last audio chunk")  # fmt: skip
        print(f"{'N':>3} {'admitted':>8} {'refused':>7} {'words':>6} {'median':>7} {'p95':>6} "
              f"{'worst p95':>10} {'max':>6}  bound")  # fmt: skip
        for n in args.at_once:
            await at_once(url, pcm, n, args.max_delay, pool)
            await asyncio.sleep(2)  # refill the spares between steps
        if not args.no_bombs:
            await bombs(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="audio per session")
    parser.add_argument("--max-delay", type=float, default=2.0, help="max_delay to request")
    parser.add_argument("--at-once", type=int, nargs="+", default=[10, 16], help="N to try")
    parser.add_argument("--no-bombs", action="store_true", help="skip the bomb measurements")
    parser.add_argument("--ramp", action="store_true", help="find the N that holds, no admission")
    parser.add_argument("--max-n", type=int, default=16, help="largest N for --ramp")
    asyncio.run(main(parser.parse_args()))
