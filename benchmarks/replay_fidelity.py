"""Benchmark: how closely a replay reproduces the recording's timing.

Replays ``smnb/samples/chat1.jsonl`` (a real Speechmatics SaaS session) against
its own audio with smnb's client at real-time pace, ``--runs`` times, and prints
per run the final-latency p50 of the recording and of the replay and the shift
of every final (replayed minus recorded latency, same word): p50, p90, max.
The shift is what the replay server, the loop and the machine add.

    python benchmarks/replay_fidelity.py [--runs 1] [--chunk-seconds 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import numpy as np

import smnb
from smnb.result import Result
from smnb.server import serve

SAMPLES = Path(smnb.__file__).parent / "samples"
RECORDING = SAMPLES / "chat1.jsonl"
AUDIO = SAMPLES / "audio_01_16kHz.wav"


async def run_once(recorded: Result, chunk_seconds: float) -> dict[str, float]:
    config = (recorded.config or {})["transcription_config"]
    async with serve(replay=RECORDING) as url:
        again = await smnb.atranscribe(AUDIO, url=url, chunk_seconds=chunk_seconds, **config)
    before, after = recorded.words, again.words
    assert list(before["content"]) == list(after["content"]), "the replay changed the words"
    spoken = before["type"] == "word"
    shift = after["latency_s"].to_numpy() - before["latency_s"].to_numpy()
    return {
        "recorded_p50": float(np.median(before.loc[spoken, "latency_s"])),
        "replay_p50": float(np.median(after.loc[spoken, "latency_s"])),
        "shift_p50_ms": 1000 * float(np.median(shift)),
        "shift_p90_ms": 1000 * float(np.percentile(shift, 90)),
        "shift_max_ms": 1000 * float(shift.max()),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--chunk-seconds", type=float, default=0.1)
    args = parser.parse_args()
    recorded = smnb.load(RECORDING)
    assert isinstance(recorded, Result)
    for run in range(1, args.runs + 1):
        row = await run_once(recorded, args.chunk_seconds)
        print(f"run {run}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
