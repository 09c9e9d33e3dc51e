"""Client audio in every format the server takes, built from one bundled speech sample.

:data:`REF` is the reference (16 kHz int16); :func:`encoded` renders it in a container or
raw encoding with soundfile/soxr, :func:`decode` runs bytes through the server's decoder
in pieces, and :func:`similarity` compares a decoding with the reference.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from smnb.server.audio.input import decoder_for

SAMPLE = Path(__file__).resolve().parents[2] / "smnb" / "samples" / "librivox-ss01-0880.wav"
REF, _ = sf.read(SAMPLE, dtype="int16")


def decode(audio_format: dict[str, object], data: bytes, piece: int = 4096) -> np.ndarray:
    decoder = decoder_for(audio_format)
    parts = [decoder.push(data[i : i + piece]) for i in range(0, len(data), piece)]
    parts.append(decoder.finish())
    out = np.concatenate(parts)
    assert out.dtype == np.int16
    return out


def similarity(x: np.ndarray) -> float:
    """Correlation with the reference, allowing a codec delay of up to 100 ms (AAC primes 64)."""
    ref = REF.astype(np.float64)
    best = 0.0
    for lag in range(0, 1600, 8):
        y = x[lag : lag + len(ref)].astype(np.float64)
        n = min(len(y), len(ref))
        best = max(best, float(np.corrcoef(y[:n], ref[:n])[0, 1]))
    return best


def at_rate(rate: int) -> np.ndarray:
    """The reference as float32 at ``rate``."""
    x = REF.astype(np.float32) / 32768
    return x if rate == 16000 else soxr.resample(x, 16000, rate).astype(np.float32)


def encoded(fmt: str, subtype: str | None, *, rate: int = 16000, channels: int = 1) -> bytes:
    x = at_rate(rate)
    if channels == 2:
        x = np.stack([x, x * 0.5], axis=1)
    buf = io.BytesIO()
    sf.write(buf, x, rate, format=fmt, **({"subtype": subtype} if subtype else {}))
    return buf.getvalue()
