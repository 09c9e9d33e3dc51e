"""Per-frame voice features for speaker diarization, numpy only.

Per 10 ms frame of a 40 ms window: MFCC c1…c16 (the spectral envelope, i.e. vocal tract
and channel; no mean normalisation, the speaker lives in the means), log energy (to find
speech), and the pitch from the autocorrelation peak (60–400 Hz) when the frame is clearly
voiced. :class:`FrameFeatures` computes them incrementally for a stream fed in pieces.

Must not import: asyncio, websockets, pandas, pocketsphinx, anything from ``smnb.session``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from smnb.server.recognizer import SAMPLE_RATE
from smnb.server.voiceprint import CEPSTRA

HOP = 160  # 10 ms
WINDOW = 640  # 40 ms: long enough for two periods of a 60 Hz voice
N_FFT = 2048  # zero-padded so the autocorrelation is linear, not circular
N_MELS = 40
N_CEPS = CEPSTRA  # c1..c16
FRAME_RATE = SAMPLE_RATE / HOP
PITCH_RANGE = (60.0, 400.0)
VOICING = 0.6
"""Normalised autocorrelation at the pitch lag above which a frame counts as voiced."""


Floats = npt.NDArray[np.float64]


def _mel_filterbank() -> Floats:
    def hz_to_mel(hz: float) -> float:
        return 2595.0 * math.log10(1.0 + hz / 700.0)

    mels = np.linspace(hz_to_mel(64.0), hz_to_mel(7600.0), N_MELS + 2)
    edges = 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    bank = np.zeros((N_MELS, bins.size))
    for m in range(N_MELS):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        rising = (bins - lo) / (mid - lo)
        falling = (hi - bins) / (hi - mid)
        bank[m] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank


def _dct_matrix() -> Floats:
    n = np.arange(N_MELS)
    k = np.arange(1, N_CEPS + 1)[:, None]
    return np.cos(np.pi * k * (2 * n + 1) / (2 * N_MELS)) * math.sqrt(2.0 / N_MELS)


_MEL = _mel_filterbank()
_DCT = _dct_matrix()
_HAMMING = np.hamming(WINDOW)
_LAGS = (int(SAMPLE_RATE / PITCH_RANGE[1]), int(SAMPLE_RATE / PITCH_RANGE[0]))


def frame_features(frames: Floats) -> tuple[Floats, Floats, Floats]:
    """(cepstra, energy in dB, log pitch or NaN when unvoiced) for rows of raw samples."""
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = 10.0 * np.log10((frames**2).mean(axis=1) + 1.0)
    spectrum = np.fft.rfft(frames * _HAMMING, N_FFT)
    power = np.abs(spectrum) ** 2
    ceps = np.log(power @ _MEL.T + 1e-3) @ _DCT.T
    autocorr = np.fft.irfft(power, N_FFT)[:, : _LAGS[1] + 1]
    autocorr /= autocorr[:, :1] + 1e-9
    lo, hi = _LAGS
    lag = lo + np.argmax(autocorr[:, lo:hi], axis=1)
    peak = autocorr[np.arange(len(frames)), lag]
    # A peak at the edge of the lag range is a slope, not a period.
    voiced = (peak > VOICING) & (lag > lo) & (lag < hi - 1)
    pitch = np.where(voiced, np.log(SAMPLE_RATE / lag), np.nan)
    return ceps, energy, pitch


class FrameFeatures:
    """Incremental per-frame features for a stream fed in arbitrary pieces.

    Frames live in a growable buffer; :meth:`forget_before` drops those no word can need
    any more, so memory stays bounded on long streams.
    """

    def __init__(self) -> None:
        self._tail = np.zeros(0, dtype=np.float64)  # samples not yet covered by a frame
        self._ceps = np.zeros((1024, N_CEPS))
        self._energy = np.zeros(1024)
        self._pitch = np.zeros(1024)
        self._size = 0
        self.first = 0  # stream frame index of the first frame held

    @property
    def end(self) -> int:
        """Stream frame index after the last frame computed."""
        return self.first + self._size

    def push(self, samples: npt.NDArray[np.int16]) -> None:
        audio = np.concatenate([self._tail, samples.astype(np.float64)])
        count = 0 if audio.size < WINDOW else 1 + (audio.size - WINDOW) // HOP
        if count:
            idx = np.arange(WINDOW)[None, :] + HOP * np.arange(count)[:, None]
            self._append(*frame_features(audio[idx]))
        self._tail = audio[count * HOP :]

    def ceps(self, lo: int, hi: int) -> Floats:
        return self._ceps[self._slice(lo, hi)]

    def energy(self, lo: int, hi: int) -> Floats:
        return self._energy[self._slice(lo, hi)]

    def pitch(self, lo: int, hi: int) -> Floats:
        return self._pitch[self._slice(lo, hi)]

    def forget_before(self, frame: int) -> None:
        drop = min(max(0, frame - self.first), self._size)
        if drop < 4096:  # not worth moving memory for
            return
        keep = slice(drop, self._size)
        for array in (self._ceps, self._energy, self._pitch):
            array[: self._size - drop] = array[keep]
        self._size -= drop
        self.first += drop

    def _slice(self, lo: int, hi: int) -> slice:
        lo, hi = max(lo, self.first), min(hi, self.end)
        return slice(lo - self.first, max(lo, hi) - self.first)

    def _append(self, ceps: Floats, energy: Floats, pitch: Floats) -> None:
        need = self._size + len(ceps)
        if need > len(self._energy):
            capacity = max(need, 2 * len(self._energy))
            self._ceps = np.resize(self._ceps, (capacity, N_CEPS))
            self._energy = np.resize(self._energy, capacity)
            self._pitch = np.resize(self._pitch, capacity)
        self._ceps[self._size : need] = ceps
        self._energy[self._size : need] = energy
        self._pitch[self._size : need] = pitch
        self._size = need
