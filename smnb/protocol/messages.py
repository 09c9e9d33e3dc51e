"""Names, shapes and constants of the RT v2 wire protocol.

Messages travel as JSON objects with a ``message`` field (and binary frames for
``AddAudio``). smnb keeps them as plain ``dict`` payloads end to end, so a
recorded session is exactly what was on the wire; this module names the types,
builds the client messages and decodes server text frames.

Stdlib only: no asyncio, no websockets, no pandas.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from smnb.exceptions import ProtocolError

Message = dict[str, Any]
"""One JSON message as sent or received."""

JSON_FORMAT_VERSION = "2.9"
"""``format`` of transcript messages in current real traffic."""


class ClientMessage(StrEnum):
    """Client → server message types (``AddAudio`` is a binary frame)."""

    START_RECOGNITION = "StartRecognition"
    ADD_AUDIO = "AddAudio"
    ADD_CHANNEL_AUDIO = "AddChannelAudio"
    END_OF_STREAM = "EndOfStream"
    END_OF_CHANNEL = "EndOfChannel"
    FORCE_END_OF_UTTERANCE = "ForceEndOfUtterance"
    SET_RECOGNITION_CONFIG = "SetRecognitionConfig"
    GET_SPEAKERS = "GetSpeakers"


class ServerMessage(StrEnum):
    """Server → client message types (the set every official client knows)."""

    RECOGNITION_STARTED = "RecognitionStarted"
    AUDIO_ADDED = "AudioAdded"
    CHANNEL_AUDIO_ADDED = "ChannelAudioAdded"
    ADD_PARTIAL_TRANSCRIPT = "AddPartialTranscript"
    ADD_TRANSCRIPT = "AddTranscript"
    END_OF_UTTERANCE = "EndOfUtterance"
    AUDIO_EVENT_STARTED = "AudioEventStarted"
    AUDIO_EVENT_ENDED = "AudioEventEnded"
    ADD_PARTIAL_TRANSLATION = "AddPartialTranslation"
    ADD_TRANSLATION = "AddTranslation"
    SPEAKERS_RESULT = "SpeakersResult"
    INFO = "Info"
    WARNING = "Warning"
    ERROR = "Error"
    END_OF_TRANSCRIPT = "EndOfTranscript"


class ErrorType(StrEnum):
    """``Error.type`` values of the current spec."""

    INVALID_MESSAGE = "invalid_message"
    INVALID_MODEL = "invalid_model"
    INVALID_LANGUAGE = "invalid_language"
    INVALID_CONFIG = "invalid_config"
    INVALID_AUDIO_TYPE = "invalid_audio_type"
    INVALID_OUTPUT_FORMAT = "invalid_output_format"
    NOT_AUTHORISED = "not_authorised"
    NOT_ALLOWED = "not_allowed"
    JOB_ERROR = "job_error"
    PROTOCOL_ERROR = "protocol_error"
    QUOTA_EXCEEDED = "quota_exceeded"
    TIMELIMIT_EXCEEDED = "timelimit_exceeded"
    IDLE_TIMEOUT = "idle_timeout"
    SESSION_TIMEOUT = "session_timeout"
    UNKNOWN_ERROR = "unknown_error"


CLOSE_CODES: dict[str, int] = {
    ErrorType.PROTOCOL_ERROR: 1003,
    ErrorType.IDLE_TIMEOUT: 1008,
    ErrorType.SESSION_TIMEOUT: 1008,
    ErrorType.UNKNOWN_ERROR: 1011,
    ErrorType.NOT_AUTHORISED: 4001,
    ErrorType.NOT_ALLOWED: 4003,
    ErrorType.INVALID_MODEL: 4004,
    ErrorType.QUOTA_EXCEEDED: 4005,
    ErrorType.TIMELIMIT_EXCEEDED: 4006,
    ErrorType.JOB_ERROR: 4013,
}
"""Documented close codes per error type; other types close with 1008 (policy)."""

DEFAULT_ERROR_CLOSE_CODE = 1008


def close_code_for(error_type: str) -> int:
    """The WebSocket close code that follows an ``Error`` of ``error_type``."""
    return CLOSE_CODES.get(error_type, DEFAULT_ERROR_CLOSE_CODE)


# --- client messages --------------------------------------------------------


def start_recognition(
    transcription_config: Message,
    audio_format: Message,
    *,
    translation_config: Message | None = None,
    audio_events_config: Message | None = None,
) -> Message:
    """Build ``StartRecognition``; the config must already be validated."""
    msg: Message = {
        "message": ClientMessage.START_RECOGNITION.value,
        "audio_format": audio_format,
        "transcription_config": transcription_config,
    }
    if translation_config is not None:
        msg["translation_config"] = translation_config
    if audio_events_config is not None:
        msg["audio_events_config"] = audio_events_config
    return msg


def end_of_stream(last_seq_no: int) -> Message:
    """Build ``EndOfStream``; ``last_seq_no`` is the number of frames sent."""
    return {"message": ClientMessage.END_OF_STREAM.value, "last_seq_no": last_seq_no}


def end_of_channel(channel: str, last_seq_no: int) -> Message:
    """Build ``EndOfChannel`` for one channel of a multichannel session."""
    return {
        "message": ClientMessage.END_OF_CHANNEL.value,
        "channel": channel,
        "last_seq_no": last_seq_no,
    }


def add_channel_audio(channel: str, data_b64: str) -> Message:
    """Build ``AddChannelAudio`` (text frame with base64 audio)."""
    return {"message": ClientMessage.ADD_CHANNEL_AUDIO.value, "channel": channel, "data": data_b64}


def force_end_of_utterance(
    *, timestamp: float | None = None, channel: str | None = None
) -> Message:
    """Build ``ForceEndOfUtterance``."""
    msg: Message = {"message": ClientMessage.FORCE_END_OF_UTTERANCE.value}
    if timestamp is not None:
        msg["timestamp"] = timestamp
    if channel is not None:
        msg["channel"] = channel
    return msg


def get_speakers(*, final: bool = False) -> Message:
    """Build ``GetSpeakers``."""
    return {"message": ClientMessage.GET_SPEAKERS.value, "final": final}


# --- decoding ---------------------------------------------------------------


def decode(text: str | bytes) -> Message:
    """Parse one text frame into a message dict.

    Raises:
        ProtocolError: the frame is not a JSON object with a string ``message``.
    """
    try:
        msg = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"frame is not JSON: {_preview(text)}") from exc
    except RecursionError as exc:  # e.g. "[[[[…" 5000 deep: not a message either
        raise ProtocolError(
            f"frame is nested too deeply to be a message: {_preview(text)}"
        ) from exc
    if not isinstance(msg, dict) or not isinstance(msg.get("message"), str):
        raise ProtocolError(f"frame has no 'message' field: {_preview(text)}")
    return msg


def encode(msg: Message) -> str:
    """Serialise a message for a text frame."""
    return json.dumps(msg, separators=(",", ":"))


def _preview(text: str | bytes, limit: int = 80) -> str:
    s = text if isinstance(text, str) else repr(text)
    return s if len(s) <= limit else s[:limit] + "…"
