"""A recorded session, arranged for replay: what to send when.

:func:`load_recording` reads an smnb output directory or ``messages.jsonl``, or
a recording in the SaaS line format (:mod:`smnb.recorder.saas`), and sorts its
server messages by when they may be sent again:

* ``on_open`` — received before ``StartRecognition`` was sent (the service's
  ``Info concurrent_session_usage``);
* ``on_start`` — received after it but before the first audio frame left
  (``RecognitionStarted``, ``Info recognition_quality``);
* ``timed`` — everything later, each with the audio time at which it arrived,
  ``t − t0`` on the recording's audio clock (``t0 = scheduled_t − audio_end`` of
  the first frame; SaaS lines give ``audio_ts`` directly). Messages that arrived
  after the client's ``EndOfStream`` wait for the replaying client's.

Acknowledgements and ``EndOfTranscript`` are not kept: the replay sends its own.

Stdlib only (the reference audio, decoded with numpy, lives in
:mod:`~smnb.server.replay.reference`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from smnb.exceptions import ConfigError, LogError
from smnb.protocol.config import RAW_ENCODINGS
from smnb.protocol.messages import Message, ServerMessage
from smnb.recorder import META, RECEIVED, SENT, Record, read_jsonl
from smnb.recorder.saas import SAAS_FORMAT, read_saas_lines, sniff

LOG_NAME = "messages.jsonl"

_NOT_REPLAYED = frozenset(
    {
        ServerMessage.AUDIO_ADDED.value,
        ServerMessage.CHANNEL_AUDIO_ADDED.value,
        ServerMessage.END_OF_TRANSCRIPT.value,
    }
)
_CHANNEL_MODES = ("channel", "channel_and_speaker")


@dataclass(frozen=True, slots=True)
class Timed:
    """A recorded server message and the audio time at which it arrived."""

    audio_s: float
    message: Message
    after_end: bool = False
    """It arrived after the client's ``EndOfStream``: only the replaying client's releases it."""


@dataclass(frozen=True, slots=True)
class Recording:
    """One recorded session, ready to be replayed to any number of clients."""

    source: str
    """The file it was read from (for messages)."""
    audio_format: Message
    transcription_config: Message
    on_open: tuple[Message, ...] = ()
    on_start: tuple[Message, ...] = ()
    timed: tuple[Timed, ...] = ()
    audio_seconds: float | None = None
    """Length of the recorded audio, when the recording says (SaaS lines do not)."""
    audio_names: tuple[str, ...] = ()
    """File names the recording gives for its audio (to find the reference audio)."""
    byte_marks: tuple[tuple[int, float], ...] = field(default=(), repr=False)
    """``(bytes sent, audio seconds)`` after each recorded frame (for ``file`` audio)."""

    @property
    def name(self) -> str:
        return Path(self.source).name

    def seconds_for(self, nbytes: int) -> float:
        """Audio seconds carried by the first ``nbytes`` bytes of the client's audio."""
        fmt = self.audio_format
        width = RAW_ENCODINGS.get(str(fmt.get("encoding")))
        rate = fmt.get("sample_rate")
        if fmt.get("type") == "raw" and width is not None and isinstance(rate, int) and rate > 0:
            return nbytes / (width * rate)
        return _interpolate(self.byte_marks, nbytes)

    @classmethod
    def from_records(cls, records: Sequence[Record], *, source: str) -> Recording:
        """Arrange recorded records for replay.

        Raises:
            ConfigError: no ``StartRecognition`` was recorded, or the session was
                multichannel (replay serves single-stream sessions).
        """
        name = Path(source).name
        records = list(records)  # positions, not the recorded ``i``, order the records

        def first(test: Callable[[Record], bool]) -> float:
            return next((k for k, r in enumerate(records) if test(r)), math.inf)

        begin = first(lambda r: r.direction == SENT and r.type == "StartRecognition")
        start = records[int(begin)].payload if begin < math.inf else None
        if not isinstance(start, dict):
            raise ConfigError(f"{name}: no StartRecognition recorded, so nothing to replay")
        audio_format = start.get("audio_format")
        config = start.get("transcription_config")
        if not isinstance(audio_format, dict) or not isinstance(config, dict):
            raise ConfigError(f"{name}: the recorded StartRecognition lacks its configuration")
        frames = [r for r in records if r.direction == SENT and r.audio_end is not None]
        if config.get("diarization") in _CHANNEL_MODES or any(r.channel for r in frames):
            raise ConfigError(f"{name}: a multichannel session cannot be replayed")

        note = next((r.payload for r in records if r.direction == META and r.type == "Session"), {})
        saas = isinstance(note, dict) and note.get("format") == SAAS_FORMAT
        first_frame = first(lambda r: r.direction == SENT and r.audio_end is not None)
        eos = first(lambda r: r.direction == SENT and r.type == "EndOfStream")
        t0 = _origin(frames)
        on_open: list[Message] = []
        on_start: list[Message] = []
        timed: list[Timed] = []
        for k, rec in enumerate(records):
            if rec.direction != RECEIVED or not isinstance(rec.payload, dict):
                continue
            if rec.type in _NOT_REPLAYED:
                continue
            if k < begin:
                on_open.append(rec.payload)
            elif k < first_frame and k < eos:
                on_start.append(rec.payload)
            else:
                audio_s = rec.t - t0 if t0 is not None else math.inf
                timed.append(Timed(audio_s, rec.payload, after_end=k > eos))

        marks: list[tuple[int, float]] = []
        sent = 0
        for frame in frames:
            sent += frame.nbytes or 0
            assert frame.audio_end is not None
            marks.append((sent, frame.audio_end))
        return cls(
            source=source,
            audio_format=dict(audio_format),
            transcription_config=dict(config),
            on_open=tuple(on_open),
            on_start=tuple(on_start),
            timed=tuple(timed),
            # Rebuilt SaaS frames stop at the last message, not at the end of the audio.
            audio_seconds=None if saas or not frames else max(m[1] for m in marks),
            audio_names=_audio_names(records),
            byte_marks=tuple(marks),
        )


def load_recording(path: str | PathLike[str]) -> Recording:
    """The recording at ``path``: an smnb output directory, its ``messages.jsonl``,
    or a file in the SaaS line format.

    Raises:
        ConfigError: nothing readable at ``path``, or nothing in it to replay.
    """
    file = Path(path)
    if file.is_dir():
        if not (file / LOG_NAME).is_file():
            raise ConfigError(f"replay: {file} holds no {LOG_NAME}")
        file = file / LOG_NAME
    if not file.is_file():
        raise ConfigError(f"replay: no such recording: {file}")
    try:
        records = read_saas_lines(file) if sniff(file) == "saas" else read_jsonl(file).records
    except LogError as exc:  # not a log at all: the message names the file
        raise ConfigError(f"replay: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"replay: cannot read {file}: {exc}") from exc
    return Recording.from_records(records, source=str(file))


def _origin(frames: Sequence[Record]) -> float | None:
    """The audio clock origin ``t0`` (as :func:`smnb.tables.columns.audio_origin`)."""
    for rec in frames:
        if rec.audio_end is not None and rec.scheduled_t is not None:
            return rec.scheduled_t - rec.audio_end
    return None


def _audio_names(records: Sequence[Record]) -> tuple[str, ...]:
    """The audio file names a recording mentions: smnb's ``Session.source``, the SDK's
    ``AudioFile.path``."""
    names: list[str] = []
    for rec in records:
        if rec.direction != META or not isinstance(rec.payload, dict):
            continue
        value = None
        if rec.type == "Session" and rec.payload.get("format") != SAAS_FORMAT:
            value = rec.payload.get("source")
        if rec.type == "AudioFile":
            value = rec.payload.get("path")
        if isinstance(value, str) and value and Path(value).suffix:
            names.append(Path(value).name)
    return tuple(dict.fromkeys(names))


def _interpolate(marks: Sequence[tuple[int, float]], nbytes: int) -> float:
    """Seconds at ``nbytes`` from recorded ``(bytes, seconds)`` marks, extrapolated past them."""
    if not marks or marks[-1][0] <= 0:
        return 0.0
    k = bisect.bisect_left([b for b, _ in marks], nbytes)
    if k >= len(marks):
        last_bytes, last_s = marks[-1]
        return nbytes * last_s / last_bytes
    b1, s1 = marks[k]
    b0, s0 = marks[k - 1] if k > 0 else (0, 0.0)
    return s0 + (s1 - s0) * (nbytes - b0) / (b1 - b0) if b1 > b0 else s1
