"""Turn whatever the user passed as ``source`` into an :class:`~smnb.audio.sources.AudioSource`.

A path is decoded (or, with ``audio_format="file"``, sent as it is); a numpy
array is converted; an async iterable of bytes is re-cut into frames; an object
that already is an audio source (a microphone, a test double) is used as it is.
All checks happen here, before any connection.

Must not import: websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from smnb.audio.decode import DecodedAudio, array_to_pcm, decode_file
from smnb.audio.sources import (
    DEFAULT_CHUNK_SECONDS,
    AudioSource,
    EncodedFileSource,
    PcmSource,
    StreamSource,
)
from smnb.exceptions import AudioError, ConfigError

AUDIO_FORMATS = ("raw", "file")
DEFAULT_ENCODING = "pcm_s16le"
"""The ``encoding`` of a raw byte stream unless told otherwise (the one value a file, an
array or an audio source may be given with, as it cannot be told from "not given")."""


def open_source(
    source: Any,
    *,
    audio_format: str = "raw",
    sample_rate: int | None = None,
    encoding: str = DEFAULT_ENCODING,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    per_channel: bool = False,
    channel_labels: Sequence[str] | None = None,
    live: bool = False,
) -> AudioSource:
    """An audio source for ``source``.

    Args:
        source: a path (``str``/``Path``), a numpy array (with ``sample_rate``),
            an async iterable of raw ``bytes`` (with ``sample_rate``; ``live``
            if it runs at real time itself) or an existing audio source.
        audio_format: ``"raw"`` decodes to 16 kHz ``pcm_s16le``; ``"file"``
            sends a file's encoded bytes unchanged.
        sample_rate: of an array or a byte stream (refused with a path or a source).
        encoding: of a byte stream (another value is refused with any other source).
        per_channel: keep channels apart (channel diarization).
        channel_labels: one label per channel; defaults to ``left``/``right``
            for stereo and ``channel_1`` … otherwise.

    Raises:
        AudioError: the source is not usable (missing, empty, corrupt, wrong type).
        ConfigError: the options do not fit the source.
    """
    if audio_format not in AUDIO_FORMATS:
        raise ConfigError(f"audio_format must be 'raw' or 'file', not {audio_format!r}")
    if isinstance(source, AudioSource):
        _no_raw_format(sample_rate, encoding, "an audio source", "the source itself")
        return source
    if isinstance(source, str | PathLike):
        _no_raw_format(sample_rate, encoding, "a file", "its header")
        path = Path(os.fspath(source))
        if audio_format == "file":
            if per_channel:
                raise ConfigError("channel diarization needs audio_format='raw' (per-channel PCM)")
            return EncodedFileSource(path, chunk_seconds=chunk_seconds)
        return _pcm(
            decode_file(path, mono=not per_channel), chunk_seconds, per_channel, channel_labels
        )
    if audio_format == "file":
        raise ConfigError("audio_format='file' needs a path to an audio file")
    if _is_array(source):
        _no_raw_format(None, encoding, "an array", "its dtype")
        audio = array_to_pcm(source, sample_rate, mono=not per_channel)
        return _pcm(audio, chunk_seconds, per_channel, channel_labels)
    if isinstance(source, AsyncIterable):
        if per_channel:
            raise ConfigError("channel diarization needs a multichannel file or array")
        if sample_rate is None:
            raise ConfigError("sample_rate is required with a stream of raw bytes")
        return StreamSource(
            source,
            sample_rate=sample_rate,
            encoding=encoding,
            chunk_seconds=chunk_seconds,
            live=live,
        )
    raise AudioError(
        f"cannot stream a {type(source).__name__}: pass a file path, a numpy array, "
        "an async iterable of bytes or an audio source"
    )


def _no_raw_format(sample_rate: int | None, encoding: str, what: str, told_by: str) -> None:
    """Refuse the raw-input settings a source has no use for (they would be ignored)."""
    if sample_rate is not None:
        raise ConfigError(
            f"sample_rate applies to raw byte streams and arrays, not to {what}: "
            f"{told_by} gives the rate"
        )
    if encoding != DEFAULT_ENCODING:
        raise ConfigError(
            f"encoding={encoding!r} applies to raw byte streams, not to {what}: "
            f"{told_by} gives the sample format"
        )


def default_labels(channels: int) -> list[str]:
    """Channel labels used when ``channel_diarization_labels`` is not given."""
    if channels == 2:
        return ["left", "right"]
    return [f"channel_{i + 1}" for i in range(channels)]


def _pcm(
    audio: DecodedAudio,
    chunk_seconds: float,
    per_channel: bool,
    labels: Sequence[str] | None,
) -> PcmSource:
    if not per_channel:
        return PcmSource(audio, chunk_seconds=chunk_seconds)
    if audio.channels < 2:
        raise ConfigError(
            f"channel diarization needs 2 or more channels; {audio.name} has {audio.channels}"
        )
    if labels is not None and len(labels) != audio.channels:
        raise ConfigError(
            f"channel_diarization_labels has {len(labels)} labels but {audio.name} has "
            f"{audio.channels} channels"
        )
    return PcmSource(
        audio, chunk_seconds=chunk_seconds, channels=labels or default_labels(audio.channels)
    )


def _is_array(source: Any) -> bool:
    # Avoid importing numpy just to ask; anything with a dtype and shape is an array.
    return hasattr(source, "dtype") and hasattr(source, "shape")
