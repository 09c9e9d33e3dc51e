"""Audio sources: the one interface the transport reads audio from.

The contract (also in ``docs/architecture.md``) is small so that anything can
be a source: files and arrays here, the local microphone in :mod:`smnb.audio.mic`,
the browser microphone in :mod:`smnb.widgets`. A source is any object with

``audio_format``
    the ``StartRecognition.audio_format`` dict, e.g.
    ``{"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}``.
``chunk_seconds``
    the nominal length of one chunk (the pacer and the tables use it).
``live``
    ``True`` when the source itself delivers audio in real time (a microphone):
    the transport then never sleeps, it sends each chunk as it arrives.
``chunks()``
    an async iterator of :class:`Chunk`, consecutive and in time order; for a
    multichannel source the chunks of every channel for one span come together.
``stop()``
    ask the source to end early but gracefully: ``chunks()`` finishes after
    what it has already captured, and the session sends ``EndOfStream`` and
    still waits for every final. It may be called before or during iteration,
    from the session's event loop.

Optional attributes, read with ``getattr``: ``channels`` (the labels of a
multichannel source: its chunks carry ``channel`` and are sent as
``AddChannelAudio``; ``None`` for one stream) and ``name`` (shown in the
``Session`` note).

Must not import: websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from smnb.audio.decode import SAMPLE_RATE, DecodedAudio, Samples, check_file, probe_duration
from smnb.exceptions import ConfigError
from smnb.protocol.config import RAW_ENCODINGS
from smnb.protocol.messages import Message

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

DEFAULT_CHUNK_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class Chunk:
    """One frame of audio as it will be sent.

    ``audio_start``/``audio_end`` are seconds from the first sample of the
    stream. ``captured_t`` is, for live sources, the reading of the session's
    clock (absolute, as returned by ``clock()``) when the chunk's last sample
    was captured; the transport then records that as the frame's scheduled
    time, so capture-to-send delay shows up in the tables.
    """

    data: bytes
    audio_start: float
    audio_end: float
    channel: str | None = None
    captured_t: float | None = None


@runtime_checkable
class AudioSource(Protocol):
    """What the transport needs from a source of audio (see the module docstring)."""

    @property
    def audio_format(self) -> Message: ...

    @property
    def chunk_seconds(self) -> float: ...

    @property
    def live(self) -> bool: ...

    def chunks(self) -> AsyncIterator[Chunk]: ...

    def stop(self) -> None: ...


class PcmSource:
    """Decoded 16-bit audio held in memory (a file or a numpy array).

    Args:
        audio: int16 samples shaped ``(frames, channels)`` and their rate.
        chunk_seconds: length of each frame.
        channels: one label per channel to send each channel separately
            (``AddChannelAudio``); ``None`` sends one stream (mono only).
    """

    live = False

    def __init__(
        self,
        audio: DecodedAudio,
        *,
        chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
        channels: Sequence[str] | None = None,
    ) -> None:
        if channels is None and audio.channels != 1:
            raise ConfigError(f"{audio.name} has {audio.channels} channels; mix it down first")
        if channels is not None and len(channels) != audio.channels:
            raise ConfigError(
                f"{len(channels)} channel labels for {audio.channels} channels in {audio.name}"
            )
        self.audio = audio
        self.chunk_seconds = _check_chunk_seconds(chunk_seconds)
        self.channels = list(channels) if channels is not None else None
        self.name = audio.name
        self.audio_format: Message = {
            "type": "raw",
            "encoding": "pcm_s16le",
            "sample_rate": audio.sample_rate,
        }
        self._stopped = False

    @property
    def duration(self) -> float:
        """Seconds of audio the source holds."""
        return self.audio.duration

    async def chunks(self) -> AsyncIterator[Chunk]:
        samples: Samples = self.audio.samples
        rate = self.audio.sample_rate
        step = max(1, round(self.chunk_seconds * rate))
        for start in range(0, samples.shape[0], step):
            if self._stopped:
                return
            end = min(start + step, samples.shape[0])
            span = (start / rate, end / rate)
            if self.channels is None:
                yield Chunk(samples[start:end, 0].tobytes(), *span)
            else:
                for i, label in enumerate(self.channels):
                    yield Chunk(samples[start:end, i].tobytes(), *span, channel=label)

    def stop(self) -> None:
        self._stopped = True

    def __repr__(self) -> str:
        return f"PcmSource({self.name!r}, {self.duration:.2f} s, channels={self.channels})"


class EncodedFileSource:
    """A file sent as it is (``audio_format: {"type": "file"}``); the server decodes it.

    Frames carry about ``chunk_seconds`` of audio each: the byte rate is the
    file size over its duration, and each frame's audio span is estimated in
    proportion to its byte offset (exact for constant-bitrate files).
    """

    live = False
    channels = None

    def __init__(self, path: str | Path, *, chunk_seconds: float = DEFAULT_CHUNK_SECONDS) -> None:
        self.path = check_file(path)
        self.duration = probe_duration(self.path)
        self.chunk_seconds = _check_chunk_seconds(chunk_seconds)
        self.name = self.path.name
        self.audio_format: Message = {"type": "file"}
        self._size = self.path.stat().st_size
        self._stopped = False

    async def chunks(self) -> AsyncIterator[Chunk]:
        seconds_per_byte = self.duration / self._size
        step = max(1, round(self.chunk_seconds / seconds_per_byte))
        offset = 0
        with self.path.open("rb") as fh:
            while not self._stopped:
                data = fh.read(step)
                if not data:
                    return
                end = offset + len(data)
                yield Chunk(data, offset * seconds_per_byte, end * seconds_per_byte)
                offset = end

    def stop(self) -> None:
        self._stopped = True

    def __repr__(self) -> str:
        return f"EncodedFileSource({self.name!r}, {self.duration:.2f} s)"


class StreamSource:
    """Raw samples from an async iterable of ``bytes`` (a pipe, a socket, a device).

    The bytes are re-cut into frames of ``chunk_seconds`` (whole samples only;
    the remainder is sent at the end).

    Args:
        stream: yields raw audio in ``encoding`` at ``sample_rate``.
        live: ``True`` if the stream itself runs at real time (then the
            transport does not pace it).
    """

    channels = None

    def __init__(
        self,
        stream: AsyncIterable[bytes],
        *,
        sample_rate: int,
        encoding: str = "pcm_s16le",
        chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
        live: bool = False,
        name: str = "stream",
    ) -> None:
        if encoding not in RAW_ENCODINGS:
            raise ConfigError(
                f"encoding must be one of {', '.join(RAW_ENCODINGS)}, not {encoding!r}"
            )
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
            raise ConfigError(f"sample_rate must be a positive integer in Hz, not {sample_rate!r}")
        self.stream = stream
        self.chunk_seconds = _check_chunk_seconds(chunk_seconds)
        self.live = live
        self.name = name
        self.audio_format: Message = {
            "type": "raw",
            "encoding": encoding,
            "sample_rate": sample_rate,
        }
        self._width = RAW_ENCODINGS[encoding]
        self._stopped = False

    async def chunks(self) -> AsyncIterator[Chunk]:
        bytes_per_second = self.audio_format["sample_rate"] * self._width
        step = max(
            self._width, round(self.chunk_seconds * bytes_per_second / self._width) * self._width
        )
        buffer = bytearray()
        sent = 0
        async for block in self.stream:
            buffer += block
            start = 0  # cut at offsets, then drop once: linear even for huge blocks
            while len(buffer) - start >= step:
                yield Chunk(
                    bytes(buffer[start : start + step]),
                    sent / bytes_per_second,
                    (sent + step) / bytes_per_second,
                )
                start += step
                sent += step
            del buffer[:start]
            if self._stopped:
                break
        whole = len(buffer) - len(buffer) % self._width
        if whole:
            yield Chunk(
                bytes(buffer[:whole]), sent / bytes_per_second, (sent + whole) / bytes_per_second
            )
        if len(buffer) > whole:
            logger.warning("dropped %d trailing bytes (not a whole sample)", len(buffer) - whole)

    def stop(self) -> None:
        self._stopped = True

    def __repr__(self) -> str:
        return f"StreamSource({self.name!r}, {self.audio_format})"


def _check_chunk_seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.005 <= value <= 10:
        raise ConfigError(f"chunk_seconds must be between 0.005 and 10, not {value!r}")
    return float(value)


__all__ = [
    "DEFAULT_CHUNK_SECONDS",
    "SAMPLE_RATE",
    "AudioSource",
    "Chunk",
    "EncodedFileSource",
    "PcmSource",
    "StreamSource",
]
