"""Sample formats → float32 → 16 kHz mono int16: the arithmetic under the audio decoders.

:class:`Frames` turns interleaved frames of any supported sample type and
channel count, arriving in byte pieces of any size, into 16 kHz mono int16 with
a streaming soxr resampler (16 kHz mono s16 passes through untouched), a slice at a
time. :func:`check_format` holds every declared rate and channel count to
:data:`~smnb.protocol.config.SAMPLE_RATES` and ``MAX_FILE_CHANNELS`` (defined once there,
for the client's decoder too) before anything is decoded: audio is bounded by what it
really holds, never by what a header claims.

Pure computation: no I/O, no asyncio, no websockets, nothing from ``smnb.session``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import numpy.typing as npt
import soxr

from smnb.exceptions import UndecodableAudio, UnsupportedAudio

# One range for the client decoder and this server.
from smnb.protocol.config import MAX_FILE_CHANNELS as MAX_CHANNELS
from smnb.protocol.config import SAMPLE_RATES
from smnb.server.recognizer import SAMPLE_RATE, Samples

Floats = npt.NDArray[np.float32]

EMPTY: Samples = np.zeros(0, dtype=np.int16)

SLICE_BYTES = 1 << 20
"""Input converted per step, so temporaries stay small whatever the frame size: decoded
audio per frame is at most 4 × its bytes (8 kHz μ-law), and nothing else accumulates."""


class AudioDecoder(ABC):
    """Turns a byte stream into 16 kHz mono int16 samples as bytes arrive."""

    input_rate: int | None = None
    """The sample rate of the incoming audio, once known."""

    @abstractmethod
    def push(self, data: bytes) -> Samples:
        """Take the next piece of the stream; return the samples now decodable."""

    @abstractmethod
    def finish(self) -> Samples:
        """The stream has ended; return every remaining sample."""


def _mulaw_table() -> Floats:
    u = ~np.arange(256, dtype=np.uint8)
    magnitude = (((u & 0x0F).astype(np.int32) << 3) + 0x84) << ((u & 0x70) >> 4)
    value = np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84)
    return (value / 32768.0).astype(np.float32)


def _alaw_table() -> Floats:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, (t + 0x108) << np.maximum(seg - 1, 0))
    value = np.where(a & 0x80, t, -t)
    return (value / 32768.0).astype(np.float32)


_MULAW = _mulaw_table()
_ALAW = _alaw_table()

Kind = tuple[str, int]
"""(sample type, bytes per sample): ``("int", 2)``, ``("float", 4)``, ``("mulaw", 1)``…"""


def _to_float(data: bytes, kind: Kind) -> Floats:
    name, width = kind
    if name == "int" and width == 2:
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    if name == "float" and width in (4, 8):  # garbage bytes can hold NaN and infinities
        wide = np.frombuffer(data, dtype="<f4" if width == 4 else "<f8")
        return np.nan_to_num(wide.astype(np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    if name == "mulaw":
        return _MULAW[np.frombuffer(data, dtype=np.uint8)]
    if name == "alaw":
        return _ALAW[np.frombuffer(data, dtype=np.uint8)]
    if name == "uint" and width == 1:
        return (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    if name == "int" and width == 3:
        b = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        return (v / float(1 << 23)).astype(np.float32)
    if name == "int" and width == 4:
        return (np.frombuffer(data, dtype="<i4") / float(1 << 31)).astype(np.float32)
    raise UndecodableAudio(f"unsupported sample format {name}{width * 8}")


def check_format(rate: int, channels: int, what: str) -> None:
    """Refuse a declared rate or channel count outside what is supported, before decoding.

    Raises:
        UnsupportedAudio: naming what declared it and the supported range.
    """
    low, high = SAMPLE_RATES
    if not low <= rate <= high:
        raise UnsupportedAudio(
            f"{what} declares a sample rate of {rate} Hz; supported rates are {low}–{high} Hz"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise UnsupportedAudio(
            f"{what} declares {channels} channels; supported are 1–{MAX_CHANNELS}"
        )


def to_int16(x: Floats) -> Samples:
    # Float input may exceed ±1 (f32 files, resampler overshoot): clip, don't wrap.
    # NaN and infinities (garbage float bytes) become silence and full scale.
    x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
    out: Samples = np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)
    return out


class _Resampler:
    """Streaming float32 mono → 16 kHz int16 (soxr keeps state across chunks)."""

    def __init__(self, rate: int) -> None:
        self._stream = (
            None
            if rate == SAMPLE_RATE
            else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        )

    def push(self, x: Floats, *, last: bool = False) -> Samples:
        if self._stream is None:
            return to_int16(x)
        y: Floats = self._stream.resample_chunk(x, last=last)
        return to_int16(y)


class Frames:
    """Interleaved frames of ``channels`` samples of ``kind``, arriving in pieces."""

    def __init__(self, kind: Kind, channels: int, rate: int) -> None:
        if channels < 1:
            raise UndecodableAudio("audio declares no channels")
        self.kind = kind
        self.channels = channels
        self.frame_bytes = kind[1] * channels
        self._pending = b""
        self._passthrough = kind == ("int", 2) and channels == 1 and rate == SAMPLE_RATE
        self._resampler = _Resampler(rate)

    def push(self, data: bytes) -> Samples:
        data = self._pending + data
        usable = len(data) - len(data) % self.frame_bytes
        self._pending = data[usable:]
        if not usable:
            return EMPTY
        if self._passthrough:  # already what the engine wants: no float round trip
            return np.frombuffer(data[:usable], dtype="<i2").astype(np.int16)
        step = max(self.frame_bytes, SLICE_BYTES - SLICE_BYTES % self.frame_bytes)
        view = memoryview(data)[:usable]
        parts = [self._convert(view[i : i + step]) for i in range(0, usable, step)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _convert(self, data: memoryview) -> Samples:
        x = _to_float(bytes(data), self.kind)
        if self.channels > 1:
            x = x.reshape(-1, self.channels).mean(axis=1, dtype=np.float32)
        return self._resampler.push(x)

    def finish(self) -> Samples:
        self._pending = b""  # a trailing partial sample cannot be decoded
        if self._passthrough:
            return EMPTY
        return self._resampler.push(np.zeros(0, dtype=np.float32), last=True)
