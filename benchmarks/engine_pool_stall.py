"""How long does the event loop stall while real recognizers decode in the engine pool?

Starts an :class:`smnb.server.engine.pool.EnginePool`, times how long the first ``open``
takes (the prewarmed worker) and a cold ``open`` (a worker started on demand), then
streams bundled clips through N concurrent sessions at real-time pace in 100 ms chunks
while a 5 ms ticker measures the loop's lateness. Prints the numbers.

    python benchmarks/engine_pool_stall.py [--sessions 2] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import numpy as np
import soundfile

from smnb.server.engine.pool import EnginePool
from smnb.server.recognizer import RecognizerSettings

SAMPLES = Path(__file__).resolve().parents[1] / "smnb" / "samples"
TICK = 0.005


async def ticker(stalls: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    expected = loop.time() + TICK
    while not stop.is_set():
        await asyncio.sleep(TICK)
        now = loop.time()
        stalls.append(max(0.0, now - expected))
        expected = now + TICK


async def stream(pool: EnginePool, audio: np.ndarray, finals: list[float]) -> None:
    handle = await pool.open(RecognizerSettings(max_delay=1.0, max_delay_mode="fixed"))
    loop = asyncio.get_running_loop()
    start = loop.time()
    chunk = 1600
    try:
        for i in range(0, len(audio), chunk):
            target = start + (i + chunk) / 16000
            await asyncio.sleep(max(0.0, target - loop.time()))
            update = await handle.feed(audio[i : i + chunk].tobytes())
            for word in update.finals:
                finals.append(loop.time() - start - word.end_time)
        await handle.finish()
    finally:
        await handle.close()


async def main(sessions: int, seconds: float) -> None:
    clips = sorted(SAMPLES.glob("librivox-*.wav")) + sorted(SAMPLES.glob("librispeech-*.wav"))
    audio = np.concatenate([soundfile.read(c, dtype="int16")[0] for c in clips])
    audio = audio[: int(seconds * 16000)]
    t0 = time.perf_counter()
    async with EnginePool(max_workers=sessions + 1) as pool:
        print(f"pool start (1 prewarmed worker): {time.perf_counter() - t0:.2f} s")
        t1 = time.perf_counter()
        warm = await pool.open(RecognizerSettings())
        print(f"open on the prewarmed worker: {1000 * (time.perf_counter() - t1):.1f} ms")
        t2 = time.perf_counter()
        cold = await pool.open(RecognizerSettings())
        print(f"open with no idle worker (starts one): {time.perf_counter() - t2:.2f} s")
        await warm.close()
        await cold.close()
        stalls: list[float] = []
        latencies: list[float] = []
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(stalls, stop))
        await asyncio.gather(*(stream(pool, audio, latencies) for _ in range(sessions)))
        stop.set()
        await tick
    s = np.array(stalls) * 1000
    print(
        f"{sessions} real-time sessions x {len(audio) / 16000:.1f} s: loop stall "
        f"max {s.max():.1f} ms, p99 {np.percentile(s, 99):.1f} ms over {len(s)} ticks"
    )
    lat = np.array(latencies)
    print(
        f"wall-clock final latency at max_delay 1.0 (fixed): p50 {np.median(lat):.2f} s, "
        f"p95 {np.percentile(lat, 95):.2f} s, max {lat.max():.2f} s ({len(lat)} words)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    asyncio.run(main(args.sessions, args.seconds))
