"""What the local server does with each ``StartRecognition`` option: honour, warn or refuse.

Every spec-valid ``StartRecognition`` is accepted. :func:`screen` takes out what the shared
validator (:mod:`smnb.protocol.config`, strict so that a client's typo fails fast) would
refuse although the spec allows it: fields the spec does not forbid but nothing here knows
(at the top or inside a nested object, named by their dotted path), ``audio_format``
extras, ``operating_point`` beside ``model``, ``additional_vocab`` phrases over six words.
:func:`notices` names the options that are accepted but cannot do here what they do in the
service. Both answer with ``Warning validation_warning``, the type the service documents for
configuration it accepted but dropped, sent before ``RecognitionStarted`` as the service
does (docs: custom-dictionary). Translation has the spec's own warnings
(:func:`translation_warnings`). Nothing is ignored silently.

Stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smnb.protocol.config import TRANSCRIPTION_FIELDS, split_unknown
from smnb.protocol.messages import Message, ServerMessage

VALIDATION_WARNING = "validation_warning"

START_FIELDS = frozenset(
    {"message", "audio_format", "transcription_config", "translation_config", "audio_events_config"}
)
MAX_VOCAB_WORDS = 6
"""Longer ``additional_vocab`` phrases are dropped before transcription (as the service does)."""

HONOURED_LOCALES = frozenset({"en-US"})
"""The recognizer's dictionary and language model spell US English."""


def warning(kind: str, reason: str, **extra: Any) -> Message:
    """A ``Warning`` message."""
    return {"message": ServerMessage.WARNING.value, "type": kind, "reason": reason, **extra}


def _note(reason: str) -> Message:
    return warning(VALIDATION_WARNING, reason)


def screen(message: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[Message, ...]]:
    """``message`` with what the shared validator would wrongly refuse taken out, and a
    ``Warning`` for each thing taken out. Values of the wrong type are left in (they are
    refused later, naming the field)."""
    out = dict(message)
    notes: list[Message] = []
    for key in sorted(set(out) - START_FIELDS):
        del out[key]
        notes.append(_note(f"StartRecognition.{key} is not part of the RT v2 API; ignored"))
    out, nested = split_unknown(out)  # in translation_config and audio_events_config
    notes += [
        _note(f"{where}.{key} is not part of the RT v2 API; ignored") for where, key, _ in nested
    ]
    fmt = out.get("audio_format")
    if isinstance(fmt, Mapping):
        out["audio_format"], dropped = _screen_format(fmt)
        notes += [_note(reason) for reason in dropped]
    config = out.get("transcription_config")
    if isinstance(config, Mapping):
        out["transcription_config"], dropped = _screen_config(config)
        notes += [_note(reason) for reason in dropped]
    return out, tuple(notes)


def _screen_format(fmt: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    kind = fmt.get("type")
    known = {"file": {"type"}, "raw": {"type", "encoding", "sample_rate"}}.get(str(kind))
    if known is None:
        return dict(fmt), []  # refused later as an unknown audio type
    why = "the file's own header gives it" if kind == "file" else "raw audio has no such field"
    extra = sorted(set(fmt) - known)
    reasons = [f"audio_format.{key} is ignored for type {kind!r}: {why}" for key in extra]
    return {k: v for k, v in fmt.items() if k in known}, reasons


def _screen_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    cfg = dict(config)
    reasons = []
    for key in sorted(set(cfg) - TRANSCRIPTION_FIELDS):
        del cfg[key]
        reasons.append(f"transcription_config.{key} is not an option this server knows; ignored")
    cfg, nested = split_unknown(cfg)  # a typo one level down is treated as one at the top
    reasons += [
        f"transcription_config.{where}.{key} is not an option this server knows; ignored"
        for where, key, _ in nested
    ]
    if "model" in cfg and "operating_point" in cfg:
        del cfg["operating_point"]
        reasons.append("operating_point is deprecated and ignored: model is set")
    vocab = cfg.get("additional_vocab")
    if isinstance(vocab, list):
        kept = [entry for entry in vocab if not _too_long(entry)]
        for entry in vocab:
            if _too_long(entry):
                content = entry if isinstance(entry, str) else entry.get("content")
                reasons.append(
                    f"additional_vocab entry {content!r} has more than {MAX_VOCAB_WORDS} "
                    "words and was dropped"
                )
        cfg["additional_vocab"] = kept
    return cfg, reasons


def _too_long(entry: Any) -> bool:
    if isinstance(entry, str):
        return len(entry.split()) > MAX_VOCAB_WORDS
    if isinstance(entry, Mapping):
        texts = [entry.get("content"), *(entry.get("sounds_like") or ())]
        return any(isinstance(t, str) and len(t.split()) > MAX_VOCAB_WORDS for t in texts)
    return False


def notices(config: Mapping[str, Any], message: Mapping[str, Any]) -> tuple[Message, ...]:
    """``Warning`` messages for valid options the local server cannot honour (see the table in
    docs/server.md)."""
    reasons: list[str] = []
    if "domain" in config:
        reasons.append(
            f"domain {config['domain']!r} is ignored: the local server has one general "
            "English model"
        )
    locale = config.get("output_locale")
    if locale is not None and locale not in HONOURED_LOCALES:
        reasons.append(
            f"output_locale {locale!r} is not applied: spelling stays US English (en-US)"
        )
    if config.get("enable_entities"):
        reasons.append(
            "enable_entities: the local server formats no entities and applies no inverse "
            "text normalisation (numbers stay words; language_pack_info.itn is false)"
        )
    if "language_hints" in config:
        reasons.append("language_hints is ignored: the local server transcribes en only")
    for key in ("streaming_mode", "ctrl"):
        if key in config:
            reasons.append(f"{key} (internal to the Speechmatics service) is ignored")
    if "speaker_diarization_config" in config and config.get("diarization") not in (
        "speaker",
        "channel_and_speaker",
    ):
        reasons.append(
            "speaker_diarization_config is ignored without diarization 'speaker' or "
            "'channel_and_speaker'"
        )
    if "audio_events_config" in message:
        reasons.append(
            "audio_events_config: the local server detects no audio events "
            "(no AudioEventStarted/AudioEventEnded will arrive)"
        )
    return tuple(_note(reason) for reason in reasons)


def translation_warnings(language: str, targets: list[str]) -> tuple[Message, ...]:
    """The spec's warnings for translation this server cannot do: one
    ``unsupported_translation_pair`` per target, then ``empty_translation_target_list``."""
    pairs = [
        warning(
            "unsupported_translation_pair",
            f"translation_config: translation from {language} to {target} is not supported "
            "by the local server",
        )
        for target in targets
    ]
    empty = warning(
        "empty_translation_target_list",
        "translation_config: no supported target languages; translation will not run",
    )
    return (*pairs, empty)
