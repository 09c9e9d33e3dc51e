"""How fast is the local RT v2 server, and how many live sessions does it hold?

Runs ``smnb.server.serve()`` (the real pocketsphinx engine pool) on loopback and
measures, with plain WebSocket clients:

1. **Real-time factor of one stream**: a recording sent as fast as possible;
   RTF = wall seconds from the first frame to ``EndOfTranscript`` / audio seconds.
2. **Concurrent real-time capacity**: N sessions at once, each sending audio at
   real-time pace (0.1 s chunks on absolute deadlines, like a microphone), for
   N = 1, 2, 4, 6, 8, … For every final word, latency = wall time the word
   arrived − wall time the chunk holding its last sample was sent. The largest N
   whose p95 latency stays within ``max_delay`` is the capacity on this machine.

The ramp stops at the first N that misses the bound (or at ``--max-n``), after
trying the N it skipped below that one; each step lasts about ``--seconds`` of
audio, so the run time is bounded.

By default the server runs as ``smnb serve`` does (the engine pool keeps one spare
worker, so a burst of new sessions waits for workers to start and load their
model). ``--warm N`` keeps N workers started and loaded instead, which measures
steady-state capacity.

Usage::

    python benchmarks/server_bench.py [--seconds 20] [--max-delay 2.0] [--max-n 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
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


def start_message(max_delay: float) -> str:
    return json.dumps({
        "message": "StartRecognition",
        "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": RATE},
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
        while json.loads(await ws.recv())["message"] != "RecognitionStarted":
            pass

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


async def step(url: str, pcm: bytes, n: int, max_delay: float) -> bool:
    """Run ``n`` real-time sessions at once; print their latencies; True if p95 holds."""
    runs = await asyncio.gather(
        *(session(url, pcm, max_delay=max_delay, realtime=True) for _ in range(n))
    )
    lat = [x for r in runs for x in r.latencies]
    ok = p95(lat) <= max_delay
    print(f"{n:>3} {len(lat):>6} {statistics.median(lat):>7.2f} {p95(lat):>6.2f} "
          f"{max(lat):>6.2f}  {'holds' if ok else 'MISSED'}", flush=True)  # fmt: skip
    return ok


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else float("nan")


async def main(args: argparse.Namespace) -> None:
    audio, rate = sf.read(SAMPLE, dtype="int16")
    assert rate == RATE
    pcm = audio[: int(args.seconds * RATE)].tobytes()
    print(f"machine: {os.cpu_count()} CPUs; audio: {SAMPLE.name}, {len(pcm) / 2 / RATE:.1f} s")
    factory = None
    if args.warm:
        print(f"engine pool: {args.warm} workers kept started and loaded")

        def factory() -> EnginePool:
            return EnginePool(idle_workers=args.warm, max_idle=args.warm)

    async with serve(engine_factory=factory) as url:
        await session(url, pcm[: RATE * 2], max_delay=args.max_delay, realtime=False)  # warm-up
        fast = await session(url, pcm, max_delay=args.max_delay, realtime=False)
        rtf = fast.wall_seconds / fast.audio_seconds
        speed = fast.audio_seconds / fast.wall_seconds
        print(f"single stream, as fast as possible: RTF {rtf:.3f} "
              f"({speed:.1f}x real time, {fast.words} words)")  # fmt: skip

        print(f"\nreal-time sessions, max_delay {args.max_delay} s (fixed), "
              "latency = final word arrival - send time of its last audio chunk")  # fmt: skip
        print(f"{'N':>3} {'words':>6} {'median':>7} {'p95':>6} {'max':>6}  bound")
        capacity = 0
        ramp = [1, 2, 4, *range(6, args.max_n + 1, 2)]
        refining = False
        while ramp:
            n = ramp.pop(0)
            if await step(url, pcm, n, args.max_delay):
                capacity = n
            elif refining or n == capacity + 1:
                break
            else:  # the ramp jumped past the limit: try the N in between, then stop
                ramp, refining = list(range(capacity + 1, n)), True
        print(f"\ncapacity: {capacity} concurrent real-time sessions hold p95 <= "
              f"{args.max_delay} s on this machine")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="audio per session")
    parser.add_argument("--max-delay", type=float, default=2.0, help="max_delay to request")
    parser.add_argument("--max-n", type=int, default=16, help="largest N to try")
    parser.add_argument("--warm", type=int, default=0, help="keep this many workers loaded")
    asyncio.run(main(parser.parse_args()))
