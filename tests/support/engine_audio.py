"""Real speech and real pocketsphinx runs shared by the engine tests.

Clips come from ``smnb/samples`` (the package's own copy). A "worker" run decodes the
clips in a fixed order with one decoder, as a worker process serving consecutive sessions
would; since no session leaves state behind, that is the same as decoding each clip with
a freshly loaded decoder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

import smnb
from smnb.server.pocketsphinx import batch
from smnb.server.pocketsphinx.decoder import new_decoder
from smnb.server.pocketsphinx.recognizer import PocketsphinxRecognizer
from smnb.server.recognizer import RecognizerSettings, Update, Word

SAMPLES = Path(smnb.__file__).resolve().parent / "samples"
CLIPS = tuple(
    p.stem
    for p in sorted(SAMPLES.glob("librivox-*.wav")) + sorted(SAMPLES.glob("librispeech-*.wav"))
)
CHUNK = 1600  # 100 ms
MAX_DELAYS = (0.7, 1.0, 2.0, 4.0)


@cache
def clip(name: str) -> np.ndarray:
    audio, rate = soundfile.read(SAMPLES / f"{name}.wav", dtype="int16")
    assert rate == 16000 and audio.ndim == 1
    return np.asarray(audio)


@cache
def reference(name: str) -> str:
    return (SAMPLES / f"{name}.txt").read_text(encoding="utf-8").strip()


def duration(name: str) -> float:
    return len(clip(name)) / 16000


@dataclass
class Stream:
    """One stream's outcome: every final with the audio time at which it was committed."""

    commits: list[tuple[Word, float]] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    early_commits: int = 0

    @property
    def words(self) -> list[Word]:
        return [w for w, _ in self.commits]

    @property
    def text(self) -> str:
        return " ".join(w.content for w in self.words)


def stream(
    audio: np.ndarray, settings: RecognizerSettings, decoder: Any, chunk: int = CHUNK
) -> Stream:
    recognizer = PocketsphinxRecognizer(settings, decoder=decoder)
    out = Stream()
    try:
        for i in range(0, len(audio), chunk):
            out.updates.append(recognizer.feed(audio[i : i + chunk]))
        out.updates.append(recognizer.finish())
    finally:
        recognizer.close()
    for update in out.updates:
        out.commits += [(w, update.processed_until) for w in update.finals]
    out.early_commits = recognizer.early_commits
    return out


def fixed(max_delay: float, **extra: Any) -> RecognizerSettings:
    return RecognizerSettings(max_delay=max_delay, max_delay_mode="fixed", **extra)


@cache
def worker_run(max_delay: float | None) -> dict[str, Stream]:
    """All clips through one decoder in order; ``None`` means :func:`batch.recognize`."""
    decoder = new_decoder()
    runs: dict[str, Stream] = {}
    for name in CLIPS:
        if max_delay is None:
            words = batch.recognize(clip(name), decoder=decoder)
            runs[name] = Stream(commits=[(w, duration(name)) for w in words])
        else:
            runs[name] = stream(clip(name), fixed(max_delay), decoder)
    return runs


def white_noise(seconds: float, seed: int = 0, level: float = 3000.0) -> np.ndarray:
    """Gaussian white noise, int16 (RMS ``level``): a session that drags any carried
    cepstral mean or noise estimate far away from speech."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, level, round(seconds * 16000))
    return np.clip(noise, -32768, 32767).astype(np.int16)
