"""``audio_filtering_config``: the volume of the audio, and silence where it is too quiet.

As the service documents it (docs: audio filtering, technical details): the 16 kHz mono
signal is split into 10 ms chunks; a chunk's *volume* is its RMS amplitude scaled to 0–100,
here ``100 × RMS / 32768`` (int16 full scale; a full-scale sine is ≈ 70.7, −20 dBFS RMS is
10, −40 dBFS is 1). A chunk whose volume is below ``volume_threshold`` is replaced with
silence before it reaches the recognizer, so quiet background speech yields no words;
0 filters nothing, 100 removes everything.

A word's ``volume`` is the average of its chunks' volumes weighted by themselves (Σv² / Σv),
so the silence inside a long word counts little, as the service intends.

While filtering, the last partial chunk of a piece (under 10 ms) is held until the next piece
completes it. Without a threshold the audio passes untouched and at once.

May import: the standard library and numpy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from smnb.server.recognizer import SAMPLE_RATE, Samples

CHUNK = SAMPLE_RATE // 100
"""Samples per 10 ms chunk."""
FULL_SCALE = 32768.0
KEEP_SECONDS = 120.0
"""Volumes older than this before the newest audio are forgotten (bounded memory)."""


def chunk_volumes(samples: Samples) -> npt.NDArray[np.float64]:
    """The 0–100 volume of each whole 10 ms chunk of ``samples``."""
    whole = len(samples) - len(samples) % CHUNK
    chunks = np.asarray(samples[:whole], dtype=np.float64).reshape(-1, CHUNK)
    volumes: npt.NDArray[np.float64] = 100.0 * np.sqrt((chunks**2).mean(axis=1)) / FULL_SCALE
    return volumes


class VolumeGate:
    """Volume measurement and filtering for one 16 kHz stream.

    Args:
        threshold: ``volume_threshold`` (0–100), or ``None`` when the session did not ask
            for ``audio_filtering_config`` (then the audio passes untouched and at once).
    """

    def __init__(self, threshold: float | None = None) -> None:
        self.threshold = threshold
        self._position = 0  # stream samples handed on
        self._held = np.zeros(0, dtype=np.int16)
        self._origin = 0  # stream sample where the chunk of _volumes[0] starts
        self._volumes = np.zeros(0, dtype=np.float64)

    @property
    def active(self) -> bool:
        return self.threshold is not None

    def push(self, samples: Samples) -> Samples:
        """The samples to feed the recognizer (quiet chunks silenced)."""
        if not self.active:
            self._position += len(samples)
            return samples
        data = np.concatenate([self._held, np.asarray(samples, dtype=np.int16)])
        if not len(self._volumes) and not len(self._held):
            self._origin = self._position  # measuring starts here
        whole = len(data) - len(data) % CHUNK
        out, self._held = self._gate(data[:whole]), data[whole:]
        self._position += len(out)
        return out

    def finish(self, samples: Samples) -> Samples:
        """The stream's last samples and the held tail (judged on its own)."""
        data = np.concatenate([self.push(samples), self._held])
        tail, self._held = data[len(data) - len(self._held) :], np.zeros(0, dtype=np.int16)
        if not len(tail) or not self.active:
            return data
        volume = 100.0 * float(np.sqrt(np.mean(tail.astype(np.float64) ** 2))) / FULL_SCALE
        self._position += len(tail)
        assert self.threshold is not None
        if volume < self.threshold:
            data[len(data) - len(tail) :] = 0
        return data

    def volume_between(self, start: float, end: float) -> float | None:
        """The volume of the audio from ``start`` to ``end`` seconds (None if not measured)."""
        lo = int((start * SAMPLE_RATE - self._origin) // CHUNK)
        hi = max(lo + 1, int(np.ceil((end * SAMPLE_RATE - self._origin) / CHUNK)))
        chunks = self._volumes[max(lo, 0) : max(hi, 0)]
        if not len(chunks):
            return None
        total = float(chunks.sum())
        return float((chunks**2).sum() / total) if total > 0 else 0.0

    def _gate(self, data: Samples) -> Samples:
        if not len(data):
            return data
        volumes = chunk_volumes(data)
        self._remember(volumes)
        assert self.threshold is not None
        quiet = np.repeat(volumes < self.threshold, CHUNK)
        return np.where(quiet, np.int16(0), data).astype(np.int16)

    def _remember(self, volumes: npt.NDArray[np.float64]) -> None:
        self._volumes = np.concatenate([self._volumes, volumes])
        excess = len(self._volumes) - int(KEEP_SECONDS * 100)
        if excess > 100 * 10:  # trim in 10 s steps, not every chunk
            self._volumes = self._volumes[excess:]
            self._origin += excess * CHUNK
