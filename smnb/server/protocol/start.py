"""``StartRecognition`` → a checked session plan, and the messages that answer it.

:func:`plan_session` validates the message with the shared rules of
:mod:`smnb.protocol.config` and adds what only the local server knows (one
language, a channel limit, what translation can do); a rejection is a
:class:`Rejected` carrying the ``Error.type`` to send. :func:`recognition_started`
and friends build the replies.

Stdlib only, plus the recognizer's settings type. No asyncio, no websockets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from smnb._version import __version__
from smnb.exceptions import ConfigError, Rejected
from smnb.protocol.config import (
    CHANNEL_MODES,
    DEFAULT_MAX_DELAY,
    split_unknown,
    unknown_field_message,
    validate_audio_format,
    validate_transcription_config,
)
from smnb.protocol.messages import ErrorType, Message, ServerMessage, close_code_for
from smnb.server import voiceprint
from smnb.server.protocol import options
from smnb.server.protocol.postprocess import PostprocessConfig
from smnb.server.recognizer import MaxDelayMode, RecognizerSettings, VocabEntry

LANGUAGES = {"en": "English"}
"""Languages the embedded recognizer speaks (code → ``language_description``)."""

MAX_CHANNELS = 4
"""Channels per multichannel session (the SaaS allows 2; each one is a recognizer)."""

ORCHESTRATOR_VERSION = f"smnb-{__version__}+pocketsphinx"

MAX_SPEAKER_IDENTIFIERS = 50
"""Identifiers across all enrolled speakers (docs: speaker identification)."""

CLOSE_REASONS = {
    1003: "protocol_error",
    1008: "policy_violation",
    1011: "internal_error",
    4001: "not_authorised",
    4003: "not_allowed",
    4004: "invalid_model",
    4005: "quota_exceeded",
    4006: "timelimit_exceeded",
    4013: "job_error",
}
"""The close payload for each close code (docs: API reference, WebSocket errors)."""

_SPEAKER_MODES = ("speaker", "channel_and_speaker")


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """Everything the session needs from a valid ``StartRecognition``."""

    transcription_config: Message
    audio_format: Message
    settings: RecognizerSettings
    channels: tuple[str, ...] | None
    """Channel labels of a multichannel session; ``None`` for a single stream."""
    enable_partials: bool
    eou_trigger: float
    speakers: bool
    """Whether words carry ``speaker`` labels."""
    get_speakers_at_end: bool
    warnings: tuple[Message, ...]
    """``Warning`` messages to send after ``RecognitionStarted``."""
    notices: tuple[Message, ...] = ()
    """``Warning`` messages to send before it (config accepted but not honoured)."""
    postprocess: PostprocessConfig = field(default_factory=PostprocessConfig)
    volume_threshold: float | None = None
    """``audio_filtering_config.volume_threshold`` (0 with an empty object); None without it."""
    sent_config: Message = field(default_factory=dict)
    """``transcription_config`` as the client sent it, before :func:`options.screen` dropped
    anything: what a ``SetRecognitionConfig`` resending the whole config must match."""


def plan_session(message: Mapping[str, Any], *, path_language: str | None = None) -> SessionPlan:
    """Check a ``StartRecognition`` message.

    Raises:
        Rejected: with ``invalid_audio_type``, ``invalid_language`` or ``invalid_config``.
    """
    sent = message.get("transcription_config")
    message, notices = options.screen(message)
    raw_format = message.get("audio_format", {"type": "file"})  # JS and Melia may omit it
    if not isinstance(raw_format, Mapping):
        raise Rejected(ErrorType.INVALID_AUDIO_TYPE, "audio_format must be an object")
    try:
        audio_format = validate_audio_format(raw_format)
    except ConfigError as exc:
        raise Rejected(ErrorType.INVALID_AUDIO_TYPE, str(exc)) from exc

    raw_config = message.get("transcription_config")
    if not isinstance(raw_config, Mapping):
        raise Rejected(ErrorType.INVALID_CONFIG, "transcription_config must be an object")
    _check_language(raw_config.get("language"), path_language)
    try:
        config = validate_transcription_config(raw_config)
    except ConfigError as exc:
        raise Rejected(ErrorType.INVALID_CONFIG, str(exc)) from exc
    channels = _channels(config)

    diarization = config.get("diarization", "none")
    speaker_cfg = config.get("speaker_diarization_config") or {}
    speakers = diarization in _SPEAKER_MODES
    known, speaker_warnings = _known_speakers(speaker_cfg) if speakers else ((), [])
    max_delay, max_delay_mode = commit_delay(config)
    settings = RecognizerSettings(
        max_delay=max_delay,
        max_delay_mode=max_delay_mode,
        enable_partials=bool(config.get("enable_partials", False)),
        speaker_diarization=speakers,
        max_speakers=speaker_cfg.get("max_speakers"),
        speaker_sensitivity=float(speaker_cfg.get("speaker_sensitivity", 0.5)),
        prefer_current_speaker=bool(speaker_cfg.get("prefer_current_speaker", False)),
        known_speakers=known,
        additional_vocab=tuple(_vocab(entry) for entry in config.get("additional_vocab", ())),
    )
    try:
        postprocess = PostprocessConfig.from_config(config)
    except ValueError as exc:
        raise Rejected(ErrorType.INVALID_CONFIG, f"transcript_filtering_config.{exc}") from exc
    conversation = config.get("conversation_config") or {}
    return SessionPlan(
        transcription_config=config,
        audio_format=audio_format,
        settings=settings,
        channels=channels,
        enable_partials=settings.enable_partials,
        eou_trigger=float(conversation.get("end_of_utterance_silence_trigger", 0.0)),
        speakers=speakers,
        get_speakers_at_end=bool(speaker_cfg.get("get_speakers", False)),
        warnings=_check_extras(message, config["language"]),
        notices=(*notices, *options.notices(config, message), *speaker_warnings),
        postprocess=postprocess,
        volume_threshold=volume_threshold(config),
        sent_config=dict(sent) if isinstance(sent, Mapping) else {},
    )


def volume_threshold(config: Mapping[str, Any]) -> float | None:
    """The gate level a (validated) config asks for: None without ``audio_filtering_config``."""
    filtering = config.get("audio_filtering_config")
    if filtering is None:
        return None
    return float(filtering.get("volume_threshold", 0.0))


def _channels(config: Mapping[str, Any]) -> tuple[str, ...] | None:
    diarization = config.get("diarization", "none")
    labels = config.get("channel_diarization_labels")
    if diarization in CHANNEL_MODES:
        if not labels:
            raise Rejected(
                ErrorType.INVALID_CONFIG,
                f"diarization {diarization!r} needs channel_diarization_labels",
            )
        if len(labels) > MAX_CHANNELS:
            raise Rejected(
                ErrorType.INVALID_CONFIG,
                f"{len(labels)} channels requested; this server allows {MAX_CHANNELS}",
            )
        return tuple(labels)
    return None  # labels without a channel mode are refused by the shared validator


def _known_speakers(
    speaker_cfg: Mapping[str, Any],
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], list[Message]]:
    """Enrolled speakers whose identifiers this engine issued; ``Warning speaker_id`` for the
    rest (as the service ignores other models' identifiers with a warning)."""
    where = "speaker_diarization_config.speakers"
    known: dict[str, list[str]] = {}
    warnings: list[Message] = []
    total = 0
    for i, item in enumerate(speaker_cfg.get("speakers") or ()):
        label, identifiers = item["label"], item.get("speaker_identifiers")
        if (
            not isinstance(identifiers, list)
            or not identifiers
            or not all(isinstance(x, str) for x in identifiers)
            or len(set(identifiers)) != len(identifiers)
        ):
            raise Rejected(
                ErrorType.INVALID_CONFIG,
                f"{where}[{i}].speaker_identifiers must be a non-empty list of unique strings",
            )
        total += len(identifiers)
        for n, identifier in enumerate(identifiers):
            try:
                if voiceprint.decode(identifier).frames == 0:
                    raise ValueError("it holds no speech")
            except ValueError as exc:
                warnings.append(
                    warning(
                        "speaker_id",
                        f"{where}[{i}] ({label!r}): identifier {n + 1} is ignored: {exc}",
                    )
                )
                continue
            known.setdefault(label, []).append(identifier)
    if total > MAX_SPEAKER_IDENTIFIERS:
        raise Rejected(
            ErrorType.INVALID_CONFIG,
            f"{where} holds {total} identifiers; at most {MAX_SPEAKER_IDENTIFIERS} are allowed",
        )
    return tuple((label, tuple(ids)) for label, ids in known.items()), warnings


def commit_delay(config: Mapping[str, Any]) -> tuple[float, MaxDelayMode]:
    """``max_delay`` and ``max_delay_mode`` of a checked config, defaults filled in."""
    mode: MaxDelayMode = "fixed" if config.get("max_delay_mode") == "fixed" else "flexible"
    return float(config.get("max_delay", DEFAULT_MAX_DELAY)), mode


def check_mid_session(original: Mapping[str, Any], message: Mapping[str, Any]) -> Message:
    """Check a ``SetRecognitionConfig``; returns the mid-session fields it sets.

    The legacy client sends its *whole* configuration, so fields that may not change
    are accepted as long as they keep their original values. ``original`` is the config as
    the client sent it (:attr:`SessionPlan.sent_config`), so a field the server dropped
    with a warning at the start still matches when it comes back unchanged.

    Raises:
        Rejected: ``invalid_language`` or ``invalid_config``.
    """
    raw = message.get("transcription_config")
    if not isinstance(raw, Mapping):
        raise Rejected(ErrorType.INVALID_CONFIG, "transcription_config must be an object")
    if "language" in raw and raw["language"] != original.get("language"):
        raise Rejected(ErrorType.INVALID_LANGUAGE, "the language cannot change mid-session")
    mutable = {"language", "max_delay", "max_delay_mode", "audio_filtering_config",
               "enable_partials", "conversation_config"}  # fmt: skip
    for key, value in raw.items():
        if key not in mutable and original.get(key) != value:
            raise Rejected(ErrorType.INVALID_CONFIG, f"{key} cannot change mid-session")
    changes = {k: v for k, v in raw.items() if k in mutable}
    _, nested = split_unknown(changes)  # refused, as an unknown top-level field is here
    if nested:
        where, key, known = nested[0]
        reason = unknown_field_message(f"transcription_config.{where}", key, known)
        raise Rejected(ErrorType.INVALID_CONFIG, reason)
    try:
        return validate_transcription_config(changes, mid_session=True)
    except ConfigError as exc:
        raise Rejected(ErrorType.INVALID_CONFIG, str(exc)) from exc


def _check_language(language: Any, path_language: str | None) -> None:
    if not isinstance(language, str) or not language:
        raise Rejected(ErrorType.INVALID_CONFIG, "transcription_config.language is required")
    if language not in LANGUAGES:
        supported = ", ".join(sorted(LANGUAGES))
        raise Rejected(
            ErrorType.INVALID_LANGUAGE,
            f"language {language!r} is not supported by the local server (supported: {supported})",
        )
    if path_language is not None and path_language != language:
        raise Rejected(
            ErrorType.INVALID_LANGUAGE,
            f"the URL asks for {path_language!r} but transcription_config.language is {language!r}",
        )


def _check_extras(message: Mapping[str, Any], language: str) -> tuple[Message, ...]:
    """Translation (the spec's warnings) and audio events (checked; warned in options)."""
    warnings: tuple[Message, ...] = ()
    translation = message.get("translation_config")
    if translation is not None:
        targets = translation.get("target_languages") if isinstance(translation, Mapping) else None
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise Rejected(
                ErrorType.INVALID_CONFIG, "translation_config.target_languages must be strings"
            )
        if len(targets) > 5:
            raise Rejected(ErrorType.INVALID_CONFIG, "at most 5 translation target languages")
        warnings = options.translation_warnings(language, targets)
    events = message.get("audio_events_config")
    if events is not None:
        types = events.get("types") if isinstance(events, Mapping) else None
        if not isinstance(events, Mapping) or not (
            types is None or (isinstance(types, list) and all(isinstance(t, str) for t in types))
        ):
            raise Rejected(
                ErrorType.INVALID_CONFIG, "audio_events_config must be an object with types[]"
            )
    return warnings


def _vocab(entry: Any) -> str | VocabEntry:
    if isinstance(entry, str):
        return entry
    return VocabEntry(entry["content"], tuple(entry.get("sounds_like") or ()))


# --- replies -------------------------------------------------------------------


def recognition_started(
    session_id: str, language: str, channels: tuple[str, ...] | None
) -> Message:
    """``RecognitionStarted`` with the fields official clients read."""
    msg: Message = {
        "message": ServerMessage.RECOGNITION_STARTED.value,
        "orchestrator_version": ORCHESTRATOR_VERSION,
        "id": session_id,
        "language_pack_info": {
            "adapted": False,
            "itn": False,
            "language_description": LANGUAGES[language],
            "word_delimiter": " ",
            "writing_direction": "left-to-right",
        },
    }
    if channels is not None:
        msg["channel_ids"] = list(channels)
    return msg


def recognition_quality(input_rate: int | None) -> Message:
    """``Info recognition_quality``: broadcast at 12 kHz and above (or unknown), else telephony."""
    quality = "telephony" if input_rate is not None and input_rate < 12_000 else "broadcast"
    return {
        "message": ServerMessage.INFO.value,
        "type": "recognition_quality",
        "quality": quality,
        "reason": f"Running recognition using a {quality} model quality.",
    }


def session_usage(usage: int, quota: int | None) -> Message:
    """``Info concurrent_session_usage``, the first message of a real session."""
    msg: Message = {
        "message": ServerMessage.INFO.value,
        "type": "concurrent_session_usage",
        "usage": usage,
        "reason": f"{usage} concurrent sessions active"
        + (f" out of quota {quota}" if quota is not None else ""),
    }
    if quota is not None:
        msg["quota"] = quota
    return msg


def warning(kind: str, reason: str, **extra: Any) -> Message:
    """A ``Warning`` message."""
    return options.warning(kind, reason, **extra)


def close_for(error_type: str) -> tuple[int, str]:
    """The close code and payload that follow an ``Error`` of ``error_type`` (as documented)."""
    code = close_code_for(error_type)
    return code, CLOSE_REASONS.get(code, str(error_type))


def error(kind: str, reason: str) -> Message:
    """An ``Error`` message."""
    return {"message": ServerMessage.ERROR.value, "type": kind, "reason": reason}


def speakers_result(speakers: Mapping[str, list[str]]) -> Message:
    """``SpeakersResult`` for the recognizers' label → identifiers (labels without any left out)."""
    return {
        "message": ServerMessage.SPEAKERS_RESULT.value,
        "speakers": [
            {"label": label, "speaker_identifiers": list(ids)}
            for label, ids in sorted(speakers.items())
            if ids
        ],
    }
