"""Audio as the client sends it → 16 kHz mono int16, incrementally.

``StartRecognition.audio_format`` is either ``raw`` (headerless ``pcm_s16le``,
``pcm_f32le`` or ``mulaw`` at any sample rate) or ``file`` (a container such as
WAV, FLAC, OGG, MP3 or M4A, split across ``AddAudio`` frames at arbitrary byte
boundaries). :func:`decoder_for` returns an :class:`AudioDecoder`: ``push``
each frame's bytes and get back whatever samples are ready, ``finish`` at the
end of the stream for the rest.

WAV is parsed here and streamed sample by sample (the common case, and the one
where latency matters). Other containers are decoded with PyAV from the bytes
received so far, re-decoding on a doubling schedule so the total work stays
linear; samples are released only once later data can no longer change them.
Bytes that are not audio raise :class:`UndecodableAudio`, which the session
reports as ``invalid_audio_type``.

Pure computation: no I/O, no asyncio, no websockets, nothing from ``smnb.session``.
"""

from __future__ import annotations

import contextlib
import io
import struct
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Literal

import av
import numpy as np

from smnb.exceptions import UndecodableAudio
from smnb.server.audio.pcm import EMPTY, Floats, Frames, Kind, to_int16
from smnb.server.recognizer import SAMPLE_RATE, Samples

__all__ = [
    "AudioDecoder",
    "ContainerDecoder",
    "FileDecoder",
    "RawDecoder",
    "UndecodableAudio",
    "WavDecoder",
    "decoder_for",
]

_SNIFF_BYTES = 12
_FIRST_ATTEMPT_BYTES = 64 * 1024
_HOLDBACK_SAMPLES = SAMPLE_RATE // 2  # the decoded tail of a truncated stream may still change


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


def decoder_for(audio_format: Mapping[str, Any]) -> AudioDecoder:
    """The decoder for a validated ``audio_format`` (a missing one means ``file``)."""
    if audio_format.get("type", "file") == "file":
        return FileDecoder()
    return RawDecoder(str(audio_format["encoding"]), int(audio_format["sample_rate"]))


# --- raw ----------------------------------------------------------------------

_RAW_KINDS: dict[str, Kind] = {
    "pcm_s16le": ("int", 2),
    "pcm_f32le": ("float", 4),
    "mulaw": ("mulaw", 1),
}


class RawDecoder(AudioDecoder):
    """Headerless mono samples (``audio_format.type == "raw"``)."""

    def __init__(self, encoding: str, sample_rate: int) -> None:
        if encoding not in _RAW_KINDS:
            raise UndecodableAudio(f"unsupported raw encoding {encoding!r}")
        self.input_rate = sample_rate
        self._frames = Frames(_RAW_KINDS[encoding], 1, sample_rate)

    def push(self, data: bytes) -> Samples:
        return self._frames.push(data)

    def finish(self) -> Samples:
        return self._frames.finish()


# --- file: sniff, then WAV or another container -------------------------------


def _looks_like_audio(head: bytes) -> bool:
    """Whether the first bytes carry a signature of a container we can try."""
    if head[:4] in (b"fLaC", b"OggS", b"FORM", b".snd", b"caff", b"\x1aE\xdf\xa3"):
        return True
    if head[:3] == b"ID3" or head[:5] == b"#!AMR" or head[4:8] == b"ftyp":
        return True
    if head[:4] == b"\x00\x00\x01\xba":  # MPEG program stream
        return True
    return head[0] == 0xFF and head[1] & 0xE0 == 0xE0  # MPEG audio / ADTS frame sync


class FileDecoder(AudioDecoder):
    """``audio_format.type == "file"``: picks WAV or a generic container from the first bytes."""

    def __init__(self) -> None:
        self._head = b""
        self._inner: AudioDecoder | None = None

    def push(self, data: bytes) -> Samples:
        if self._inner is None:
            self._head += data
            if len(self._head) < _SNIFF_BYTES:
                return EMPTY
            self._inner = self._choose(self._head)
            data, self._head = self._head, b""
        out = self._inner.push(data)
        self.input_rate = self._inner.input_rate
        return out

    def finish(self) -> Samples:
        if self._inner is None:
            if self._head:
                raise UndecodableAudio(
                    f"Could not determine type of stream ({len(self._head)} bytes)"
                )
            return EMPTY
        out = self._inner.finish()
        self.input_rate = self._inner.input_rate
        return out

    @staticmethod
    def _choose(head: bytes) -> AudioDecoder:
        if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
            return WavDecoder()
        if _looks_like_audio(head):
            return ContainerDecoder()
        raise UndecodableAudio("Could not determine type of stream")


_WAV_TAGS: dict[tuple[int, int], Kind] = {
    (1, 8): ("uint", 1),
    (1, 16): ("int", 2),
    (1, 24): ("int", 3),
    (1, 32): ("int", 4),
    (3, 32): ("float", 4),
    (3, 64): ("float", 8),
    (6, 8): ("alaw", 1),
    (7, 8): ("mulaw", 1),
}


class WavDecoder(AudioDecoder):
    """RIFF/WAVE parsed incrementally: chunks are skipped until ``data``, which is streamed.

    Encodings other than plain PCM/float/G.711 (ADPCM, MP3-in-WAV…) are handed
    to :class:`ContainerDecoder` together with every byte received so far.
    """

    def __init__(self) -> None:
        self._buf = b""  # header bytes not yet parsed
        self._all = bytearray()  # kept only until the header is parsed (for a hand-over)
        self._pos = 12  # next chunk header offset in _buf
        self._fmt: tuple[Kind, int, int] | None = None
        self._frames: Frames | None = None
        self._data_left: float = 0  # bytes of the data chunk still to come (inf if unknown)
        self._fallback: ContainerDecoder | None = None

    def push(self, data: bytes) -> Samples:
        if self._fallback is not None:
            return self._fallback.push(data)
        if self._frames is None:
            self._all += data
            self._buf += data
            found = self._parse_header()
            if found == "wait":
                return EMPTY
            if found == "other":
                return self._hand_over()
            self._all = bytearray()
            data, self._buf = self._buf[self._pos :], b""
        assert self._frames is not None
        if self._data_left != float("inf"):
            data = data[: int(self._data_left)]
            self._data_left -= len(data)
        return self._frames.push(data)

    def finish(self) -> Samples:
        if self._fallback is not None:
            out = self._fallback.finish()
            self.input_rate = self._fallback.input_rate
            return out
        if self._frames is None:
            raise UndecodableAudio("WAV stream ended before its audio data began")
        return self._frames.finish()

    def _hand_over(self) -> Samples:
        assert self._fallback is not None
        data, self._all = bytes(self._all), bytearray()
        return self._fallback.push(data)

    def _parse_header(self) -> Literal["wait", "data", "other"]:
        """Advance through chunk headers: ``data`` once at the samples, ``other`` for an
        encoding PyAV must decode, ``wait`` for more bytes."""
        buf = self._buf
        while len(buf) >= self._pos + 8:
            chunk_id = buf[self._pos : self._pos + 4]
            (size,) = struct.unpack("<I", buf[self._pos + 4 : self._pos + 8])
            body = self._pos + 8
            if chunk_id == b"data":
                if self._fmt is None:
                    raise UndecodableAudio("WAV data chunk comes before its fmt chunk")
                kind, channels, rate = self._fmt
                unknown = size in (0, 0xFFFFFFFF) or buf[:4] == b"RF64"  # streamed WAV
                self._data_left = float("inf") if unknown else size
                self.input_rate = rate
                self._frames = Frames(kind, channels, rate)
                self._pos = body
                return "data"
            if len(buf) < body + size:
                return "wait"  # for the rest of this chunk
            if chunk_id == b"fmt " and not self._read_fmt(buf[body : body + size]):
                self._fallback = ContainerDecoder()
                return "other"
            self._pos = body + size + (size & 1)  # chunks are padded to even sizes
        return "wait"

    def _read_fmt(self, fmt: bytes) -> bool:
        """Take the sample format from a fmt chunk; False if it is not one parsed here."""
        if len(fmt) < 16:
            raise UndecodableAudio("WAV fmt chunk is too short")
        tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
        if tag == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the GUID starts with the tag
            (tag,) = struct.unpack("<H", fmt[24:26])
        if rate <= 0:
            raise UndecodableAudio("WAV declares a sample rate of 0")
        kind = _WAV_TAGS.get((tag, bits))
        if kind is None:
            return False
        self._fmt = (kind, channels, rate)
        return True


class ContainerDecoder(AudioDecoder):
    """Any container PyAV (FFmpeg) can demux, decoded from the bytes received so far."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._next_attempt = _FIRST_ATTEMPT_BYTES
        self._emitted = 0

    def push(self, data: bytes) -> Samples:
        self._buf += data
        if len(self._buf) < self._next_attempt:
            return EMPTY
        self._next_attempt = 2 * len(self._buf)  # doubling keeps total re-decoding linear
        try:
            decoded = self._decode()
        except UndecodableAudio:
            return EMPTY  # maybe the header is not complete yet; EndOfStream decides
        return self._release(decoded, len(decoded) - _HOLDBACK_SAMPLES)

    def finish(self) -> Samples:
        if not self._buf:
            return EMPTY
        decoded = self._decode()
        if len(decoded) == 0 and self._emitted == 0:
            raise UndecodableAudio("the file holds no decodable audio")
        return self._release(decoded, len(decoded))

    def _release(self, decoded: Samples, upto: int) -> Samples:
        if upto <= self._emitted:
            return EMPTY
        out = decoded[self._emitted : upto]
        self._emitted = upto
        return out

    def _decode(self) -> Samples:
        chunks: list[Floats] = []
        try:
            container = av.open(io.BytesIO(bytes(self._buf)), mode="r")
        except (av.FFmpegError, EOFError, ValueError) as exc:
            raise UndecodableAudio(f"Could not determine type of stream: {exc}") from exc
        with container:
            if not container.streams.audio:
                raise UndecodableAudio("the file has no audio stream")
            stream = container.streams.audio[0]
            self.input_rate = stream.rate or None
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            try:
                for frame in container.decode(stream):
                    chunks.extend(_floats(out) for out in resampler.resample(frame))
            except (av.FFmpegError, EOFError, ValueError):
                pass  # a truncated stream: keep what decoded cleanly
            with contextlib.suppress(av.FFmpegError, ValueError):
                chunks.extend(_floats(out) for out in resampler.resample(None))
        if not chunks:
            return EMPTY
        return to_int16(np.concatenate(chunks))


def _floats(frame: av.AudioFrame) -> Floats:
    return np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)
