"""Benchmark: pacing error of a real-time session whose log goes to a slow disk.

A slow disk (a network share, a Colab Drive folder) must not shift the pacer whose
timing is being measured. One real-time session (tone speech, 20 ms frames, so 50
frames and about as many acknowledgements a second) runs against the real local
server (tone recognizers, in a child process), while ``messages.jsonl`` goes to a
stream whose every ``write`` and ``flush`` sleeps ``--delay`` seconds:

- ``none``: no log at all (the floor: what the machine's scheduling costs);
- ``inline``: what smnb did before: write and flush each record on the session's
  event loop (a recorder subscriber doing the I/O itself);
- ``thread``: :class:`smnb.recorder.JsonlWriter`, which only queues the record; its
  own thread writes and flushes (at least every 100 ms).

Printed per writer and run (the writers interleaved, ``--repeats`` rounds, since a
shared machine's load moves every number): frames, pacing error (``sent −
scheduled``) p50 / p99 / max in milliseconds, and the records that reached the
stream; then each writer's best p99.

Measured (2 CPUs, 2026-12-02, 3 rounds on an otherwise idle machine): ``none`` p50
0.22-0.32 ms, p99 0.84-0.87 ms, max 0.93-1.70 ms; ``thread`` p50 0.14-0.24 ms, p99
0.77-1.69 ms (3.91 in a round where another process loaded both CPUs), max 1.19-4.39 ms;
``inline`` p99 1170-1304 ms. Before the pacer woke early and yielded the last 1.5 ms
(it slept the whole delay, and asyncio's timer rounds up to the millisecond): ``none``
p50 1.20-1.37 ms, p99 2.30-2.61 ms; ``thread`` p50 1.15-1.22 ms, p99 2.32-3.24 ms.

    python benchmarks/slow_disk_pacing.py [--seconds 10] [--delay 0.005] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from smnb.audio import open_source  # noqa: E402
from smnb.protocol import messages as m  # noqa: E402
from smnb.recorder import JsonlWriter, Record, Recorder  # noqa: E402
from smnb.recorder.jsonl import scrubbed, to_line  # noqa: E402
from smnb.session.transport import SessionRunner  # noqa: E402
from tests.support.client import process_server, tone_wav  # noqa: E402


class SlowStream(io.StringIO):
    """Every write and flush blocks for ``delay`` seconds, like a slow network drive."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.lines = 0

    def write(self, text: str) -> int:
        time.sleep(self.delay)
        self.lines += text.count("\n")
        return super().write(text)

    def flush(self) -> None:
        time.sleep(self.delay)


class InlineWriter:
    """The old way: format, write and flush on the caller's thread (the session's loop)."""

    def __init__(self, stream: SlowStream) -> None:
        self.stream = stream

    def __call__(self, record: Record) -> None:
        self.stream.write(to_line(scrubbed(record)) + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


async def session(url: str, wav: Path, subscriber: Any) -> Recorder:
    source = open_source(wav, chunk_seconds=0.02)
    start = m.start_recognition(
        {"language": "en", "enable_partials": True, "max_delay": 1.0}, source.audio_format
    )
    recorder = Recorder()
    recorder.subscribe(subscriber)
    await SessionRunner(url, source, start, recorder, pace="realtime").run()
    return recorder


def report(name: str, recorder: Recorder, stream: SlowStream) -> float:
    frames = [r for r in recorder.records if r.type == "AddAudio"]
    err = np.array([r.t - (r.scheduled_t or r.t) for r in frames]) * 1000
    p50, p99 = np.percentile(err, [50, 99])
    print(
        f"{name:>7}: {len(frames)} frames, pacing error p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
        f"max {err.max():.2f} ms; {stream.lines}/{len(recorder)} records on the stream"
    )
    return float(p99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="audio per session")
    parser.add_argument("--delay", type=float, default=0.005, help="seconds per write/flush")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the three writers")
    args = parser.parse_args()
    words = max(1, round(args.seconds / 0.7))
    names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    script = tuple(x for k in range(words) for x in (names[k % len(names)], 0.4))
    wav = tone_wav(Path("/tmp") / "smnb-slow-disk.wav", script)
    print(f"{args.seconds:g} s of tone speech, 20 ms frames; each write/flush sleeps "
          f"{args.delay * 1000:g} ms")  # fmt: skip
    best: dict[str, float] = {}
    with process_server() as (url, _):
        for _ in range(args.repeats):
            for name in ("none", "inline", "thread"):
                stream = SlowStream(args.delay)
                writer: Any = {
                    "none": lambda record: None,
                    "inline": InlineWriter(stream),
                    "thread": JsonlWriter("unused", stream=stream) if name == "thread" else None,
                }[name]
                recorder = asyncio.run(session(url, wav, writer))
                if hasattr(writer, "close"):
                    writer.close()
                p99 = report(name, recorder, stream)
                best[name] = min(best.get(name, p99), p99)
    print("best p99: " + ", ".join(f"{k} {v:.2f} ms" for k, v in best.items()))


if __name__ == "__main__":
    main()
