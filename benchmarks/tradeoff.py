"""The local server's latency–accuracy trade-off and final cadence, through its protocol layer.

Streams the bundled speech clips (``smnb/samples``: every mono ``librivox-*``,
``librispeech-*`` and ``cards-*`` clip, each with its reference transcript) through the
server's real protocol layer and recognizer (:func:`smnb.server.protocol.inline.run_inline`
with the engine worker's own recognizer factory, so one process plays one worker serving
session after session), in 100 ms frames, partials on, ``max_delay_mode`` fixed, at
max_delay 0.7 / 1 / 2 / 4, two ways:

* **per clip**: one session per clip, the clips in a shuffled order;
* **stitched**: all clips, shuffled, in one stream (:func:`smnb.experiment.stitch`) with
  pauses of 1, 1.5 or 2 s between them (by shuffle) and 5 s of silence at the end, so no
  word is finalised by the end of the stream;

each for ``--shuffles`` orders, beside whole-file decoding of the same audio
(:func:`smnb.server.pocketsphinx.batch.recognize`, no latency limit). Per row:

* **WER** pooled over files and shuffles (pinned normaliser, :mod:`smnb.metrics`) with its
  95 % bootstrap interval over files (a file's shuffles move together); a stitched
  stream's words are given to the clip whose span (± half a pause) holds their middle;
* **final latency** in audio time: audio decoded when a word's ``AddTranscript`` went out
  minus its ``end_time``, p50 / p95 / max. Real-time wall-clock latency adds the wait for
  the frame and the processing (the commit policy budgets 0.15 s for both; see
  ``benchmarks/server_bench.py``);
* **partial latency**: the first partial (or final) holding a word that overlaps it, minus
  its ``end_time``, p50 / p95 (negative: shown before the word ends);
* **cadence** (:mod:`smnb.metrics.cadence`): ``AddTranscript`` step p50 / p90 in audio
  time, the share of empty finals and of finals followed at once by a partial. The
  recorded SaaS sessions: 0.37 / 0.74 s, 30 %, 100 %.

    python benchmarks/tradeoff.py [--shuffles 3] [--max-delays 0.7 1 2 4]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile

from smnb.experiment.stitch import stitch
from smnb.metrics.accuracy import ZERO, Score, pooled, score, wer_interval
from smnb.metrics.cadence import NO_CADENCE, Cadence, final_cadence
from smnb.metrics.stats import quantile
from smnb.server.engine.worker import default_factory
from smnb.server.pocketsphinx import batch
from smnb.server.protocol.inline import Timed, final_latencies, run_inline

SAMPLES = Path(__file__).resolve().parents[1] / "smnb" / "samples"
PATTERNS = ("librivox-*.wav", "librispeech-*.wav", "cards-*.wav")
CHUNK = 3200  # bytes: 100 ms
GAPS = (1.0, 1.5, 2.0)
LEAD, TAIL = 0.5, 5.0


@dataclass
class Row:
    """One setting's outcome, pooled over shuffles."""

    scores: dict[str, Score] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    finals: list[float] = field(default_factory=list)
    partials: list[float] = field(default_factory=list)
    cadence: Cadence = NO_CADENCE
    cpu: float = 0.0

    def add(self, name: str, text: str, reference: str) -> None:
        self.scores[name] = self.scores[name] + score(reference, text)

    def add_session(self, timed: Timed) -> None:
        self.finals += [lat for _, lat in final_latencies(timed)]
        self.partials += partial_latencies(timed)
        self.cadence = self.cadence + final_cadence(timed)


def partial_latencies(timed: Timed) -> list[float]:
    """Per final word: when a word overlapping it first showed, minus its end."""
    shown: list[tuple[float, float, float]] = []  # (audio time, start, end)
    out: list[float] = []
    for t, msg in timed:
        if msg["message"] not in ("AddPartialTranscript", "AddTranscript"):
            continue
        words = [r for r in msg["results"] if r["type"] == "word"]
        shown += [(t, r["start_time"], r["end_time"]) for r in words]
        if msg["message"] == "AddTranscript":
            for r in words:
                first = min(s for s, a, b in shown if b > r["start_time"] and a < r["end_time"])
                out.append(first - r["end_time"])
    return out


def words_of(timed: Timed) -> list[tuple[float, str]]:
    """``(middle, content)`` of every final word."""
    return [
        ((r["start_time"] + r["end_time"]) / 2, r["alternatives"][0]["content"])
        for _, m in timed
        if m["message"] == "AddTranscript"
        for r in m["results"]
        if r["type"] == "word"
    ]


def split(
    words: list[tuple[float, str]], spans: list[tuple[float, float]], gap: float
) -> list[str]:
    """The words of each clip of a stitched stream."""
    return [" ".join(w for mid, w in words if a - gap / 2 <= mid < b + gap / 2) for a, b in spans]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shuffles", type=int, default=3)
    parser.add_argument("--max-delays", type=float, nargs="+", default=[0.7, 1.0, 2.0, 4.0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    clips = [p for pattern in PATTERNS for p in sorted(SAMPLES.glob(pattern))]
    audio = {p.stem: np.asarray(soundfile.read(p, dtype="int16")[0]) for p in clips}
    refs = {p.stem: p.with_suffix(".txt").read_text(encoding="utf-8").strip() for p in clips}
    seconds = sum(len(a) for a in audio.values()) / 16000
    orders = [random.Random(args.seed + k).sample(clips, len(clips)) for k in range(args.shuffles)]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=SAMPLES, check=False).stdout.strip()  # fmt: skip
    print(f"{len(clips)} clips, {seconds:.1f} s, {sum(len(r.split()) for r in refs.values())} "
          f"reference words; {args.shuffles} shuffles; commit {commit or '?'}\n")  # fmt: skip

    rows: dict[tuple[str, str], Row] = {}
    settings: list[float | None] = [*args.max_delays, None]
    with tempfile.TemporaryDirectory() as tmp:
        streams = []
        for k, order in enumerate(orders):
            gap = GAPS[k % len(GAPS)]
            wav = stitch(order, Path(tmp) / f"stream{k}", gap_s=gap, tail_s=TAIL, lead_s=LEAD)
            spans, at = [], LEAD
            for p in order:
                spans.append((at, at + len(audio[p.stem]) / 16000))
                at = spans[-1][1] + gap
            streams.append((np.asarray(soundfile.read(wav, dtype="int16")[0]), spans, gap))
        for max_delay in settings:
            name = "whole file" if max_delay is None else f"max_delay {max_delay:g}"
            config = {"max_delay": max_delay, "max_delay_mode": "fixed", "enable_partials": True}
            for mode in ("per clip", "stitched"):
                row = rows[(mode, name)] = Row()
                cpu = time.process_time()
                for k, order in enumerate(orders):
                    if mode == "per clip":
                        for p in order:
                            if max_delay is None:
                                text = " ".join(w.content for w in batch.recognize(audio[p.stem]))
                            else:
                                timed = run_inline(audio[p.stem].tobytes(), config,
                                                   default_factory, chunk=CHUNK)  # fmt: skip
                                row.add_session(timed)
                                text = " ".join(w for _, w in words_of(timed))
                            row.add(p.stem, text, refs[p.stem])
                        continue
                    pcm, spans, gap = streams[k]
                    if max_delay is None:
                        words = [((w.start_time + w.end_time) / 2, w.content)
                                 for w in batch.recognize(pcm)]  # fmt: skip
                    else:
                        timed = run_inline(pcm.tobytes(), config, default_factory, chunk=CHUNK)
                        row.add_session(timed)
                        words = words_of(timed)
                    for p, text in zip(order, split(words, spans, gap), strict=True):
                        row.add(p.stem, text, refs[p.stem])
                row.cpu = (time.process_time() - cpu) / args.shuffles
                print(report(mode, name, row), flush=True)
    print("\n" + table(rows))


def report(mode: str, name: str, row: Row) -> str:
    total = pooled(row.scores.values())
    low, high = wer_interval(list(row.scores.values()))
    return f"{mode:>8} {name:>14}: WER {total.wer:.3f} [{low:.3f}, {high:.3f}]  cpu {row.cpu:.0f} s"


def table(rows: dict[tuple[str, str], Row]) -> str:
    """The Markdown table for docs/server.md."""
    head = (
        "| stream | setting | WER [95 % CI] | final p50 / p95 / max (s) | partial p50 / p95 (s)"
        " | final step p50 / p90 (s) | empty finals | followed by a partial |"
    )
    lines = [head, "|" + "---|" * 8]
    for (mode, name), row in rows.items():
        total = pooled(row.scores.values())
        low, high = wer_interval(list(row.scores.values()))
        cells = [mode, name, f"{total.wer:.3f} [{low:.3f}, {high:.3f}]"]
        if row.finals:
            f50, f95 = quantile(row.finals, 0.5), quantile(row.finals, 0.95)
            p50, p95 = quantile(row.partials, 0.5), quantile(row.partials, 0.95)
            c = row.cadence
            cells += [
                f"{f50:.2f} / {f95:.2f} / {max(row.finals):.2f}",
                f"{p50:.2f} / {p95:.2f}",
                f"{c.median_step:.2f} / {c.p90_step:.2f}",
                f"{c.empty_share:.0%}",
                f"{c.followed_share:.0%}",
            ]
        else:
            cells += ["–"] * 5
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
