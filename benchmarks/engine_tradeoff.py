"""The engine's latency/accuracy trade-off, measured on the bundled real speech.

For max_delay 0.7, 1, 2 and 4 (fixed mode) and for batch (no latency limit), decodes every
``librivox-*`` and ``librispeech-*`` clip in ``smnb/samples`` with one decoder, in order,
as a worker serving consecutive sessions would, feeding 100 ms chunks. Prints:

* WER (jiwer, lowercase references, no other normalisation) over all clips;
* final latency in audio time: commit time (audio consumed when the final came out) minus
  the word's end time, p50 / p95 / max;
* the share of words committed before their utterance ended (at a cut or from the first
  pass, which is where a small max_delay loses accuracy);
* CPU real-time factor (process CPU seconds per audio second, decoder loading excluded).

    python benchmarks/engine_tradeoff.py
"""

from __future__ import annotations

import time
from pathlib import Path

import jiwer
import numpy as np
import soundfile

from smnb.server.pocketsphinx import batch
from smnb.server.pocketsphinx.decoder import new_decoder
from smnb.server.pocketsphinx.recognizer import PocketsphinxRecognizer
from smnb.server.recognizer import RecognizerSettings

SAMPLES = Path(__file__).resolve().parents[1] / "smnb" / "samples"
CHUNK = 1600


def main() -> None:
    clips = sorted(SAMPLES.glob("librivox-*.wav")) + sorted(SAMPLES.glob("librispeech-*.wav"))
    audio = [soundfile.read(c, dtype="int16")[0] for c in clips]
    refs = [c.with_suffix(".txt").read_text(encoding="utf-8").strip() for c in clips]
    seconds = sum(len(a) for a in audio) / 16000
    n_words = sum(len(r.split()) for r in refs)
    print(f"{len(clips)} clips, {seconds:.1f} s, {n_words} reference words")
    print(
        f"{'setting':>14} {'WER':>6} {'lat p50':>8} {'p95':>6} {'max':>6} {'early':>6} {'RTF':>6}"
    )
    for max_delay in (0.7, 1.0, 2.0, 4.0, None):
        decoder = new_decoder()
        texts: list[str] = []
        latencies: list[float] = []
        early = total = 0
        cpu = time.process_time()
        for samples in audio:
            if max_delay is None:
                words = batch.recognize(samples, decoder=decoder)
                texts.append(" ".join(w.content for w in words))
                total += len(words)
                continue
            settings = RecognizerSettings(max_delay=max_delay, max_delay_mode="fixed")
            recognizer = PocketsphinxRecognizer(settings, decoder=decoder)
            words = []
            updates = [
                recognizer.feed(samples[i : i + CHUNK]) for i in range(0, len(samples), CHUNK)
            ]
            updates.append(recognizer.finish())
            recognizer.close()
            for update in updates:
                words += update.finals
                latencies += [update.processed_until - w.end_time for w in update.finals]
            texts.append(" ".join(w.content for w in words))
            early += recognizer.early_commits
            total += len(words)
        rtf = (time.process_time() - cpu) / seconds
        wer = jiwer.wer(refs, texts)
        name = "batch" if max_delay is None else f"max_delay {max_delay:g}"
        if latencies:
            p50, p95, worst = np.percentile(latencies, [50, 95, 100])
            lat = f"{p50:8.2f} {p95:6.2f} {worst:6.2f}"
        else:
            lat = f"{'-':>8} {'-':>6} {'-':>6}"
        print(f"{name:>14} {wer:6.3f} {lat} {early / total:6.0%} {rtf:6.3f}")


if __name__ == "__main__":
    main()
