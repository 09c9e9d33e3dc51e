"""Audio as the client sends it → 16 kHz mono int16, incrementally.

``StartRecognition.audio_format`` is either ``raw`` (headerless ``pcm_s16le``,
``pcm_f32le`` or ``mulaw`` at a rate in :data:`~smnb.protocol.config.SAMPLE_RATES`)
or ``file`` (a container such as WAV, FLAC, OGG, MP3 or M4A, split across
``AddAudio`` frames at arbitrary byte boundaries). :func:`decoder_for` returns an
:class:`AudioDecoder`: ``push`` each frame's bytes and get back whatever samples are
ready, ``finish`` at the end of the stream for the rest.

WAV is parsed here and streamed sample by sample (the common case, and the one
where latency matters). Other containers go to
:class:`~smnb.server.audio.container.ContainerDecoder` (PyAV). Bytes that are not
audio raise :class:`UndecodableAudio`, and a declared rate or channel count outside
what is supported raises :class:`UnsupportedAudio` before any decoding; the session
reports both as ``invalid_audio_type``.

Pure computation: no I/O, no asyncio, no websockets, nothing from ``smnb.session``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any, Literal

from smnb.exceptions import UndecodableAudio, UnsupportedAudio
from smnb.server.audio.container import ContainerDecoder
from smnb.server.audio.pcm import EMPTY, AudioDecoder, Frames, Kind, check_format
from smnb.server.recognizer import Samples

__all__ = [
    "AudioDecoder",
    "ContainerDecoder",
    "FileDecoder",
    "RawDecoder",
    "UndecodableAudio",
    "UnsupportedAudio",
    "WavDecoder",
    "decoder_for",
]

_SNIFF_BYTES = 12


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
        check_format(sample_rate, 1, "audio_format")
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
        check_format(rate, channels, "the WAV header")
        kind = _WAV_TAGS.get((tag, bits))
        if kind is None:
            return False
        self._fmt = (kind, channels, rate)
        return True
