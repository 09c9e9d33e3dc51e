"""Benchmark: recording overhead and table-building cost for one hour of audio.

A synthetic but realistic RT v2 session is scripted first (no I/O, seeded):
100 ms audio frames paced in real time, each acknowledged by ``AudioAdded``;
a partial every 0.35 s of audio holding the not-yet-final words; a final every
~1.5 s with its words and punctuation; two speakers taking turns;
``EndOfUtterance`` after pauses. The script is then replayed through a real
:class:`~smnb.recorder.Recorder` (timing the ``record_*`` calls alone, then
again with a :class:`~smnb.recorder.JsonlWriter` subscribed as the transport
does), and every table is built from it (time, then peak memory with
:mod:`tracemalloc`).

    python benchmarks/tables_bench.py [--seconds 3600] [--seed 0]

The building blocks (:func:`script_session`, :func:`replay`,
:func:`bench_recording`, :func:`bench_tables`) are importable, so another
benchmark can feed the same script to a different client.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smnb import tables
from smnb.clock import ManualClock
from smnb.recorder import JsonlWriter, Recorder

CHUNK_S = 0.1
BYTES_PER_CHUNK = 3200  # 16 kHz mono int16
PARTIAL_EVERY_S = 0.35
FINAL_EVERY_S = 1.5
PARTIAL_DELAY_S = 0.25  # arrival after the audio it covers
FINAL_DELAY_S = 0.9
# fmt: off
VOCAB = (
    "the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "we",
    "measure", "latency", "of", "speech", "recognition", "in", "real", "time", "with",
    "partial", "and", "final", "results", "from", "the", "server", "today",
)
# fmt: on

Step = tuple[float, str, Any]
"""(time on the session clock, kind, data): one scripted call."""


@dataclass(slots=True)
class Word:
    content: str
    start: float
    end: float
    speaker: str
    eos: bool  # a full stop follows


def _speech(seconds: float, rng: random.Random) -> list[Word]:
    out: list[Word] = []
    t, speaker, sentence_left = 0.3, "S1", rng.randint(6, 14)
    while True:
        dur = rng.uniform(0.18, 0.5)
        if t + dur > seconds - 0.5:
            return out
        sentence_left -= 1
        out.append(Word(rng.choice(VOCAB), round(t, 2), round(t + dur, 2), speaker, False))
        t += dur + rng.uniform(0.0, 0.08)
        if sentence_left == 0:
            out[-1].eos = True
            sentence_left = rng.randint(6, 14)
            t += rng.uniform(0.2, 1.4)
            if rng.random() < 0.3:
                speaker = "S2" if speaker == "S1" else "S1"


def _result(w: Word, *, final: bool) -> list[dict[str, Any]]:
    alt = {"content": w.content, "confidence": 0.93 if final else 1.0, "language": "en"}
    item = {"type": "word", "start_time": w.start, "end_time": w.end, "alternatives": [alt]}
    alt["speaker"] = w.speaker
    if not (final and w.eos):
        return [item]
    mark = {"content": ".", "confidence": 1.0, "language": "en", "speaker": w.speaker}
    punct = {"type": "punctuation", "start_time": w.end, "end_time": w.end}
    punct |= {"is_eos": True, "attaches_to": "previous", "alternatives": [mark]}
    return [item, punct]


def _transcript(kind: str, start: float, end: float, items: list[dict[str, Any]]) -> Any:
    text = " ".join(i["alternatives"][0]["content"] for i in items)
    meta = {"start_time": round(start, 2), "end_time": round(end, 2), "transcript": text}
    return {"message": kind, "format": "2.9", "metadata": meta, "results": items}


def script_session(seconds: float = 3600.0, seed: int = 0) -> list[Step]:
    """The whole session as time-ordered steps (t0 = 0.5 s on the session clock)."""
    rng = random.Random(seed)
    t0 = 0.5
    steps: list[Step] = [
        (0.0, "meta", ("Session", {"source": "synthetic.wav", "pace": "realtime"})),
        (0.0, "sent", {"message": "StartRecognition", "transcription_config": {"language": "en"}}),
        (0.3, "recv", {"message": "RecognitionStarted", "id": "bench"}),
    ]
    n_chunks = round(seconds / CHUNK_S)
    for k in range(n_chunks):
        due = t0 + (k + 1) * CHUNK_S
        steps.append((due + 0.0004, "audio", (k + 1, k * CHUNK_S, (k + 1) * CHUNK_S, due)))
        ack = {"message": "AudioAdded", "seq_no": k + 1}
        steps.append((due + rng.uniform(0.02, 0.06), "recv", ack))
    words = _speech(seconds, rng)
    last_final, f_end, wi = 0.0, FINAL_EVERY_S, 0
    p_end = PARTIAL_EVERY_S
    while f_end <= seconds:
        # partials up to this final boundary, holding words not yet final
        while p_end < f_end:
            pending = [w for w in words[wi : wi + 12] if last_final < w.end <= p_end]
            items = [i for w in pending for i in _result(w, final=False)]
            msg = _transcript("AddPartialTranscript", last_final, p_end, items)
            steps.append((t0 + p_end + PARTIAL_DELAY_S, "recv", msg))
            p_end += PARTIAL_EVERY_S
        done = []
        while wi < len(words) and words[wi].end <= f_end:
            done.append(words[wi])
            wi += 1
        items = [i for w in done for i in _result(w, final=True)]
        arrival = t0 + f_end + FINAL_DELAY_S
        steps.append((arrival, "recv", _transcript("AddTranscript", last_final, f_end, items)))
        if done and done[-1].eos and (wi >= len(words) or words[wi].start - done[-1].end > 0.8):
            eou = {
                "message": "EndOfUtterance",
                "metadata": {"start_time": f_end, "end_time": f_end},
            }
            steps.append((arrival + 0.001, "recv", eou))
        last_final = f_end
        f_end = round(f_end + FINAL_EVERY_S + rng.uniform(-0.2, 0.2), 2)
    end = t0 + seconds + 1.5
    steps.append((end - 0.1, "sent", {"message": "EndOfStream", "last_seq_no": n_chunks}))
    steps.append((end, "recv", {"message": "EndOfTranscript"}))
    steps.append((end + 0.01, "meta", ("Closed", {"code": 1000, "reason": ""})))
    steps.sort(key=lambda s: s[0])
    return steps


def replay(steps: list[Step], recorder: Recorder, clock: ManualClock) -> None:
    """Feed the scripted steps to ``recorder`` as the transport would."""
    for t, kind, data in steps:
        if kind == "recv":
            recorder.record_received(data, t)
        elif kind == "audio":
            seq, start, end, due = data
            recorder.record_audio(seq, BYTES_PER_CHUNK, start, end, scheduled_t=due, t=t)
        elif kind == "sent":
            recorder.record_sent(data, t=t)
        else:
            clock.set(max(clock.now, t))
            recorder.record_meta(*data)


def bench_recording(steps: list[Step], subscriber: Callable[[Any], None] | None = None) -> float:
    """Seconds spent in ``record_*`` calls per record (best of 3)."""
    best = float("inf")
    for _ in range(3):
        clock = ManualClock()
        recorder = Recorder(clock)
        if subscriber is not None:
            recorder.subscribe(subscriber)
        gc.collect()
        start = time.perf_counter()
        replay(steps, recorder, clock)
        best = min(best, (time.perf_counter() - start) / len(steps))
    return best


def bench_tables(recorder: Recorder) -> dict[str, float]:
    """Seconds to build each table (best of 3), plus ``all`` and ``text``."""
    records = recorder.snapshot()
    out: dict[str, float] = {}
    builders: dict[str, Callable[[Any], Any]] = {
        **{name: getattr(tables, name) for name in tables.SCHEMAS},
        "text": tables.text,
        "all": tables.all_tables,
    }
    for name, build in builders.items():
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            build(records)
            best = min(best, time.perf_counter() - start)
        out[name] = best
    return out


def peak_memory_all_tables(recorder: Recorder) -> tuple[int, int]:
    """(peak bytes allocated while building every table, bytes the tables keep)."""
    records = recorder.snapshot()
    gc.collect()
    tracemalloc.start()
    built = tables.all_tables(records)
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del built
    return peak, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    steps = script_session(args.seconds, args.seed)
    clock = ManualClock()
    recorder = Recorder(clock)
    replay(steps, recorder, clock)
    counts: dict[str, int] = {}
    for r in recorder.records:
        counts[r.type] = counts.get(r.type, 0) + 1
    print(f"session: {args.seconds:.0f} s audio, {len(recorder)} records")
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    print(f"recording: {bench_recording(steps) * 1e6:.2f} µs/record")
    with tempfile.TemporaryDirectory() as tmp:
        writer = JsonlWriter(Path(tmp) / "messages.jsonl")
        per = bench_recording(steps, writer)
        writer.close()
    print(f"recording + JsonlWriter: {per * 1e6:.2f} µs/record")
    timings = bench_tables(recorder)
    for name, sec in timings.items():
        print(f"  {name:<12} {sec * 1e3:8.1f} ms")
    peak, kept = peak_memory_all_tables(recorder)
    mib = 2**20
    print(
        f"all tables: {timings['all']:.3f} s, peak {peak / mib:.1f} MiB, kept {kept / mib:.1f} MiB"
    )
    sizes = {n: len(df) for n, df in tables.all_tables(recorder).items()}
    print("rows: " + ", ".join(f"{n} {k}" for n, k in sizes.items()))


if __name__ == "__main__":
    main()
