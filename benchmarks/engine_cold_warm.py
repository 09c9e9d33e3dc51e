"""Engine state and confidence: cold vs warm, max_delay vs whole-file decoding, AUC.

Decodes the 14 mono clips in ``smnb/samples`` (LibriVox, LibriSpeech, cards: 60 s, one
clip per session, 100 ms feeds) with the server's recognizer and prints:

* **cold vs warm**: WER of each clip as the first thing a session hears, with a freshly
  loaded decoder (cold) and with one that has just served every other clip and 5 s of
  white noise (warm). Since no session leaves state behind they must be equal;
* **per-clip pooled WER** at max_delay 0.7 / 1 / 2 / 4 (fixed mode) beside whole-file
  decoding (the settings of :func:`smnb.server.pocketsphinx.batch.recognize`: no latency
  limit), with a
  95 % bootstrap interval over clips, the share of words committed before their
  utterance ended, audio re-decoded (per audio second) and CPU real-time factor;
* the same for one long stream: every clip in turn with 0.8 s pauses;
* **confidence AUC**: the probability that a correct final word has a higher confidence
  than a wrong one (words aligned to the references with jiwer).

WER uses smnb's pinned normaliser (:mod:`smnb.metrics.normalise`).

    python benchmarks/engine_cold_warm.py
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import jiwer
import numpy as np
import soundfile

from smnb.metrics.normalise import normalise
from smnb.server.pocketsphinx import batch
from smnb.server.pocketsphinx.decoder import new_decoder
from smnb.server.pocketsphinx.recognizer import PocketsphinxRecognizer
from smnb.server.recognizer import RecognizerSettings, Word

SAMPLES = Path(__file__).resolve().parents[1] / "smnb" / "samples"
PREFIXES = ("librivox-", "librispeech-", "cards-")
CHUNK = 1600
MAX_DELAYS = (0.7, 1.0, 2.0, 4.0)
PAUSE = np.zeros(12800, dtype=np.int16)


def load() -> tuple[list[str], list[np.ndarray], list[str]]:
    names = sorted(p.stem for p in SAMPLES.glob("*.wav") if p.stem.startswith(PREFIXES))
    audio = [soundfile.read(SAMPLES / f"{n}.wav", dtype="int16")[0] for n in names]
    refs = [(SAMPLES / f"{n}.txt").read_text(encoding="utf-8") for n in names]
    return names, audio, refs


def decode(
    samples: np.ndarray, max_delay: float, decoder: object
) -> tuple[list[Word], dict[str, float]]:
    """Stream ``samples`` in 100 ms feeds (``max_delay`` inf: the batch reference's settings)."""
    settings = (
        batch.NO_DEADLINE
        if math.isinf(max_delay)
        else RecognizerSettings(max_delay=max_delay, max_delay_mode="fixed")
    )
    recognizer = PocketsphinxRecognizer(settings, decoder=decoder)
    words: list[Word] = []
    for i in range(0, len(samples), CHUNK):
        words += recognizer.feed(samples[i : i + CHUNK]).finals
    words += recognizer.finish().finals
    recognizer.close()
    return words, {"early": recognizer.early_commits, "redecoded": recognizer.redecoded_seconds}


def errors(ref: str, hyp: str) -> tuple[int, int]:
    out = jiwer.process_words(normalise(ref), normalise(hyp))
    return out.substitutions + out.deletions + out.insertions, len(normalise(ref).split())


def pooled(pairs: list[tuple[int, int]]) -> float:
    return sum(e for e, _ in pairs) / max(1, sum(n for _, n in pairs))


def interval(pairs: list[tuple[int, int]], rng: np.random.Generator) -> tuple[float, float]:
    draws = [
        pooled([pairs[i] for i in rng.integers(0, len(pairs), len(pairs))]) for _ in range(2000)
    ]
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)


def labelled(ref: str, words: list[Word]) -> list[tuple[float, bool]]:
    """(confidence, correct) per final word, aligning word by word."""
    hyp = [w.content.lower() for w in words]
    if not hyp:
        return []
    out = jiwer.process_words(normalise(ref), " ".join(hyp))
    correct = [False] * len(hyp)
    for chunk in out.alignments[0]:
        if chunk.type == "equal":
            for k in range(chunk.hyp_start_idx, chunk.hyp_end_idx):
                correct[k] = True
    return [(w.confidence, ok) for w, ok in zip(words, correct, strict=True)]


def auc(rows: list[tuple[float, bool]]) -> float:
    good = np.array([c for c, ok in rows if ok])
    bad = np.array([c for c, ok in rows if not ok])
    if not len(good) or not len(bad):
        return math.nan
    wins = (good[:, None] > bad[None, :]).sum() + 0.5 * (good[:, None] == bad[None, :]).sum()
    return float(wins / (len(good) * len(bad)))


def main() -> None:
    names, audio, refs = load()
    seconds = sum(len(a) for a in audio) / 16000
    rng = np.random.default_rng(0)
    print(
        f"{len(names)} clips, {seconds:.1f} s, {sum(len(normalise(r).split()) for r in refs)} words"
    )

    print("\ncold vs warm (each clip the first thing its session hears), max_delay 1 and 4")
    for max_delay in (1.0, 4.0):
        cold = [errors(r, " ".join(w.content for w in decode(a, max_delay, new_decoder())[0]))
                for a, r in zip(audio, refs, strict=True)]  # fmt: skip
        warm_decoder = new_decoder()
        for a in [*audio, np.random.default_rng(1).normal(0, 3000, 80000).astype(np.int16)]:
            decode(a, max_delay, warm_decoder)
        warm = [errors(r, " ".join(w.content for w in decode(a, max_delay, warm_decoder)[0]))
                for a, r in zip(audio, refs, strict=True)]  # fmt: skip
        print(f"  max_delay {max_delay}: cold {pooled(cold):.3f}  warm {pooled(warm):.3f}")

    print("\nper-clip sessions" + " " * 18 + "WER [95% CI]      early  re-dec   RTF   conf AUC")
    decoder = new_decoder()
    long_stream = np.concatenate([x for a in audio for x in (a, PAUSE)])
    long_ref = " ".join(refs)
    for max_delay in (*MAX_DELAYS, math.inf):
        pairs: list[tuple[int, int]] = []
        rows: list[tuple[float, bool]] = []
        early, redecoded, total = 0.0, 0.0, 0
        cpu = time.process_time()
        for a, r in zip(audio, refs, strict=True):
            words, stats = decode(a, max_delay, decoder)
            pairs.append(errors(r, " ".join(w.content for w in words)))
            rows += labelled(r, words)
            early, redecoded, total = (
                early + stats["early"],
                redecoded + stats["redecoded"],
                total + len(words),
            )
        rtf = (time.process_time() - cpu) / seconds
        low, high = interval(pairs, rng)
        name = "whole-file" if math.isinf(max_delay) else f"max_delay {max_delay}"
        share = early / max(1, total)
        print(f"  {name:<30} {pooled(pairs):.3f} [{low:.3f}, {high:.3f}]  {share:5.2f}"
              f"  {redecoded / seconds:5.2f}  {rtf:5.3f}  {auc(rows):.3f}")  # fmt: skip
    print(f"\none stream of every clip ({len(long_stream) / 16000:.0f} s, 0.8 s pauses)")
    long_seconds = len(long_stream) / 16000
    for max_delay in (*MAX_DELAYS, math.inf):
        cpu = time.process_time()
        words, stats = decode(long_stream, max_delay, decoder)
        rtf = (time.process_time() - cpu) / long_seconds
        wer = pooled([errors(long_ref, " ".join(w.content for w in words))])
        name = "whole-file" if math.isinf(max_delay) else f"max_delay {max_delay}"
        print(f"  {name:<30} {wer:.3f}  re-dec {stats['redecoded'] / long_seconds:.2f}"
              f"  RTF {rtf:.3f}  conf AUC {auc(labelled(long_ref, words)):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
