"""Audio for the client: decoding, sources, and real-time pacing.

- :mod:`smnb.audio.decode`: files and arrays → int16 PCM (soundfile, PyAV, soxr).
- :mod:`smnb.audio.sources`: the :class:`AudioSource` contract and the file/array/stream sources.
- :mod:`smnb.audio.live`: :class:`LiveSource`, the thread-fed base of both microphones.
- :mod:`smnb.audio.mic`: the local microphone (sounddevice, imported lazily).
- :mod:`smnb.audio.resolve`: :func:`open_source` turns a user's ``source`` into a source.
- :mod:`smnb.audio.pacing`: absolute real-time deadlines and the unacknowledged window.

Must not import: websockets, pandas, anything from ``smnb.session``.
"""

from smnb.audio.decode import SAMPLE_RATE, DecodedAudio, array_to_pcm, decode_file
from smnb.audio.live import LiveSource
from smnb.audio.mic import Microphone, list_devices
from smnb.audio.pacing import DEFAULT_MAX_UNACKED, PACES, AckWindow, Pace, Pacer, check_pace
from smnb.audio.resolve import open_source
from smnb.audio.sources import (
    DEFAULT_CHUNK_SECONDS,
    AudioSource,
    Chunk,
    EncodedFileSource,
    PcmSource,
    StreamSource,
)

__all__ = [
    "DEFAULT_CHUNK_SECONDS",
    "DEFAULT_MAX_UNACKED",
    "PACES",
    "SAMPLE_RATE",
    "AckWindow",
    "AudioSource",
    "Chunk",
    "DecodedAudio",
    "EncodedFileSource",
    "LiveSource",
    "Microphone",
    "Pace",
    "Pacer",
    "PcmSource",
    "StreamSource",
    "array_to_pcm",
    "check_pace",
    "decode_file",
    "list_devices",
    "open_source",
]
