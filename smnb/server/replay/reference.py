"""The audio a recording was made with, as the recording's client sent it.

A replay compares the client's audio with it byte for byte, so a client
streaming other audio learns at once that the messages it gets are not about
its audio. The reference is rendered in the recording's ``audio_format``: the
file's own bytes for ``file`` audio, PCM decoded exactly as smnb's client
decodes a file for ``pcm_s16le`` (other raw encodings are only checked for
their length).

Imports numpy through :mod:`smnb.audio.decode`; never the transport.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from smnb.audio.decode import decode_file, probe_duration
from smnb.exceptions import AudioError, ConfigError
from smnb.protocol.messages import Message
from smnb.server.replay.recording import Recording

log = logging.getLogger("smnb.server.replay")


@dataclass(frozen=True, slots=True)
class ReferenceAudio:
    """The recording's audio as its client sent it."""

    path: Path
    data: bytes = field(repr=False)
    seconds: float

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def find_reference(recording: Recording) -> Path | None:
    """The audio file the recording names, if it sits beside the recording or one
    directory up (where ``smnb transcribe FILE --out DIR`` leaves it)."""
    here = Path(recording.source).parent
    for name in recording.audio_names:
        for directory in (here, here.parent):
            if (directory / name).is_file():
                return directory / name
    return None


def load_reference(path: str | PathLike[str], audio_format: Message) -> ReferenceAudio | None:
    """``path`` rendered in ``audio_format``; None for a raw encoding other than
    ``pcm_s16le`` (its rendering by other clients is not known exactly).

    Raises:
        ConfigError: ``path`` is not a decodable audio file.
    """
    file = Path(path)
    try:
        if audio_format.get("type", "file") == "file":
            return ReferenceAudio(file, file.read_bytes(), probe_duration(file))
        if audio_format.get("encoding") != "pcm_s16le":
            log.info("replay: %s audio is compared by length only", audio_format.get("encoding"))
            return None
        rate = int(audio_format.get("sample_rate", 16000))
        decoded = decode_file(file, sample_rate=rate)
    except (AudioError, OSError) as exc:
        raise ConfigError(f"replay: the reference audio cannot be used: {exc}") from exc
    return ReferenceAudio(file, decoded.samples[:, 0].astype("<i2").tobytes(), decoded.duration)


def reference_for(
    recording: Recording, audio: str | PathLike[str] | None = None
) -> ReferenceAudio | None:
    """The reference audio: ``audio`` if given, else the file the recording names."""
    path = Path(audio) if audio is not None else find_reference(recording)
    if path is None:
        log.info(
            "replay of %s: its audio file was not found, so only the audio's length is checked",
            recording.name,
        )
        return None
    if not path.is_file():
        raise ConfigError(f"replay: no such audio file: {path}")
    return load_reference(path, recording.audio_format)
