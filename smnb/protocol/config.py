"""Validation of ``transcription_config`` and ``audio_format`` against the RT v2 spec.

One set of rules serves both ends: the client checks values before it connects
(so a typo fails in a second with a message naming the field), and the local
server checks what arrives in ``StartRecognition``.

Stdlib only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from smnb.exceptions import ConfigError
from smnb.protocol.messages import Message

MAX_DELAY_RANGE = (0.7, 4.0)
DEFAULT_MAX_DELAY = 4.0
"""The ``max_delay`` the service (and smnb's local server) applies when StartRecognition sets
none; RecognitionStarted does not echo it, so a log of an unset one is read with this."""
EOU_TRIGGER_RANGE = (0.0, 2.0)
DIARIZATION_MODES = ("none", "speaker", "channel", "channel_and_speaker")
CHANNEL_MODES = ("channel", "channel_and_speaker")
"""The diarization modes that send each channel separately (and take channel labels)."""
MAX_DELAY_MODES = ("fixed", "flexible")
MODELS = ("standard", "enhanced", "melia-1")
SAMPLE_RATE = 16_000
"""The one sample rate smnb works at: the client decodes raw audio to it, the local engine
runs at it (its server resamples everything else). The protocol itself allows any rate."""
SAMPLE_RATES = (8_000, 192_000)
"""Input sample rates accepted for audio files (the client's decoder, the local server), in
Hz. The service documents no range: its recognition models are telephony (8 kHz) and
broadcast (12 kHz and up, spec ``recognition_quality``), and it is "optimised for sample
rates of 8kHz and 16kHz" (Speechmatics FAQ). 8 kHz is so the floor (below it there is no
speech band left to recognise, and a low declared rate makes a few bytes upsample into
gigabytes); 192 kHz, the highest studio rate, the ceiling."""
MAX_FILE_CHANNELS = 64
"""Channels an audio file's header may declare (client decoder and local server)."""
RAW_ENCODINGS = {"pcm_s16le": 2, "pcm_f32le": 4, "mulaw": 1}
"""Raw encodings and their bytes per sample."""

DEFAULT_TRANSCRIPTION: Message = {"language": "en", "enable_partials": True}
"""The transcription_config values smnb's clients (sessions, sweeps) send unless told otherwise."""

_RESERVED_SPEAKER_LABEL = re.compile(r"^(S\d+|UU|\s+.*|\S+.*\s+)$")

TRANSCRIPTION_FIELDS = frozenset(
    {
        "language",
        "language_hints",
        "domain",
        "output_locale",
        "additional_vocab",
        "diarization",
        "max_delay",
        "max_delay_mode",
        "enable_partials",
        "enable_entities",
        "model",
        "operating_point",
        "punctuation_overrides",
        "speaker_diarization_config",
        "channel_diarization_labels",
        "audio_filtering_config",
        "transcript_filtering_config",
        "conversation_config",
        "streaming_mode",
        "ctrl",
    }
)
MID_SESSION_FIELDS = frozenset(
    {
        "language",
        "max_delay",
        "max_delay_mode",
        "audio_filtering_config",
        "enable_partials",
        "conversation_config",
    }
)

NESTED_FIELDS: dict[str, frozenset[str]] = {
    "audio_filtering_config": frozenset({"volume_threshold"}),
    "conversation_config": frozenset({"end_of_utterance_silence_trigger"}),
    "punctuation_overrides": frozenset({"permitted_marks", "sensitivity"}),
    "speaker_diarization_config": frozenset(
        {
            "max_speakers",
            "prefer_current_speaker",
            "speaker_sensitivity",
            "get_speakers",
            "speakers",
        }
    ),
    "speaker_diarization_config.speakers[]": frozenset({"label", "speaker_identifiers"}),
    "transcript_filtering_config": frozenset({"remove_disfluencies", "replacements"}),
    "transcript_filtering_config.replacements[]": frozenset({"from", "to"}),
    "additional_vocab[]": frozenset({"content", "sounds_like"}),
    "translation_config": frozenset({"target_languages", "enable_partials"}),
    "audio_events_config": frozenset({"types"}),
}
"""The fields of each nested object, from the RT v2 AsyncAPI spec's schemas (``[]``: each
item of a list). ``ctrl`` is internal to the service and has no schema: it is not looked into."""


def split_unknown(
    fields: Mapping[str, Any],
) -> tuple[dict[str, Any], list[tuple[str, str, frozenset[str]]]]:
    """``fields`` (a ``transcription_config``, or ``StartRecognition``'s top level) without
    the nested keys :data:`NESTED_FIELDS` does not know, and each one taken out as
    ``(dotted path of its object, key, the keys that object knows)``. Values of the wrong
    type are left as they are (their checks refuse them, naming the field)."""
    found: list[tuple[str, str, frozenset[str]]] = []
    out = {key: _known_only(value, key, key, found) for key, value in fields.items()}
    return out, found


def _known_only(value: Any, schema: str, path: str, found: list[Any]) -> Any:
    if isinstance(value, list) and f"{schema}[]" in NESTED_FIELDS:
        return [_known_only(v, f"{schema}[]", f"{path}[{i}]", found) for i, v in enumerate(value)]
    known = NESTED_FIELDS.get(schema)
    if known is None or not isinstance(value, Mapping):
        return value
    found += [(path, key, known) for key in value if key not in known]
    return {
        key: _known_only(v, f"{schema.removesuffix('[]')}.{key}", f"{path}.{key}", found)
        for key, v in value.items()
        if key in known
    }


def unknown_field_message(where: str, key: str, known: frozenset[str]) -> str:
    """``<where>.<key> is not a field of the RT v2 API; did you mean …?``"""
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(known))})"
    return f"{where}.{key} is not a field of the RT v2 API{hint}"


def validate_transcription_config(
    config: Mapping[str, Any], *, mid_session: bool = False
) -> Message:
    """Check every field against the spec and return a clean copy.

    Raises:
        ConfigError: naming the first offending field and what is allowed.
    """
    cfg = dict(config)
    allowed = MID_SESSION_FIELDS if mid_session else TRANSCRIPTION_FIELDS
    unknown = sorted(set(cfg) - allowed)
    if unknown:
        where = "SetRecognitionConfig" if mid_session else "transcription_config"
        raise ConfigError(f"{where} does not accept {', '.join(unknown)}")
    _, nested = split_unknown(cfg)
    if nested:
        raise ConfigError(unknown_field_message(*nested[0]))

    if "language" not in cfg and not mid_session:
        raise ConfigError("transcription_config.language is required (e.g. 'en')")
    if "language" in cfg:
        _string(cfg, "language")
    for key in ("domain", "output_locale"):
        if key in cfg:
            _string(cfg, key)
    if "language_hints" in cfg and (
        not isinstance(cfg["language_hints"], list)
        or not all(isinstance(h, str) and h for h in cfg["language_hints"])
    ):
        raise ConfigError("language_hints must be a list of language codes")
    if "max_delay" in cfg:
        _number(cfg, "max_delay", *MAX_DELAY_RANGE)
    if "max_delay_mode" in cfg:
        _choice(cfg, "max_delay_mode", MAX_DELAY_MODES)
    if "diarization" in cfg:
        _choice(cfg, "diarization", DIARIZATION_MODES)
    for key in ("enable_partials", "enable_entities", "streaming_mode"):
        if key in cfg:
            _bool(cfg, key)
    for key in ("model", "operating_point"):
        if key in cfg:
            _choice(cfg, key, MODELS)
    if "model" in cfg and "operating_point" in cfg:
        raise ConfigError("set either model or operating_point (deprecated), not both")
    if "additional_vocab" in cfg:
        _additional_vocab(cfg["additional_vocab"])
    if "punctuation_overrides" in cfg:
        _punctuation_overrides(cfg["punctuation_overrides"])
    if "speaker_diarization_config" in cfg:
        _speaker_config(cfg["speaker_diarization_config"])
    if "channel_diarization_labels" in cfg:
        _channel_labels(cfg["channel_diarization_labels"])
        if cfg.get("diarization") not in CHANNEL_MODES:  # docs: realtime-diarization
            raise ConfigError(
                "channel_diarization_labels needs diarization 'channel' or 'channel_and_speaker'"
            )
    if "audio_filtering_config" in cfg:
        sub = _object(cfg, "audio_filtering_config")
        if "volume_threshold" in sub:
            _number(sub, "volume_threshold", 0.0, 100.0, prefix="audio_filtering_config.")
    if "transcript_filtering_config" in cfg:
        _transcript_filtering(cfg["transcript_filtering_config"])
    if "conversation_config" in cfg:
        sub = _object(cfg, "conversation_config")
        if "end_of_utterance_silence_trigger" in sub:
            _number(
                sub,
                "end_of_utterance_silence_trigger",
                *EOU_TRIGGER_RANGE,
                prefix="conversation_config.",
            )
    if "ctrl" in cfg:
        _object(cfg, "ctrl")
    return cfg


def validate_audio_format(audio_format: Mapping[str, Any]) -> Message:
    """Check an ``audio_format`` object (``raw`` with encoding and rate, or ``file``)."""
    fmt = dict(audio_format)
    kind = fmt.get("type")
    if kind == "file":
        extra = sorted(set(fmt) - {"type"})
        if extra:
            raise ConfigError(f"audio_format of type 'file' takes no {', '.join(extra)}")
        return fmt
    if kind != "raw":
        raise ConfigError(f"audio_format.type must be 'raw' or 'file', not {kind!r}")
    encoding = fmt.get("encoding")
    if encoding not in RAW_ENCODINGS:
        raise ConfigError(
            f"audio_format.encoding must be one of {', '.join(RAW_ENCODINGS)}, not {encoding!r}"
        )
    rate = fmt.get("sample_rate")
    if not isinstance(rate, int) or isinstance(rate, bool) or not 1000 <= rate <= 192_000:
        raise ConfigError(
            f"audio_format.sample_rate must be an integer Hz in 1000–192000, not {rate!r}"
        )
    extra = sorted(set(fmt) - {"type", "encoding", "sample_rate"})
    if extra:
        raise ConfigError(f"audio_format does not accept {', '.join(extra)}")
    return fmt


# --- field checks -------------------------------------------------------------


def _string(cfg: Mapping[str, Any], key: str) -> None:
    value = cfg[key]
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be a non-empty string, not {value!r}")


def _bool(cfg: Mapping[str, Any], key: str) -> None:
    if not isinstance(cfg[key], bool):
        raise ConfigError(f"{key} must be true or false, not {cfg[key]!r}")


def _number(cfg: Mapping[str, Any], key: str, low: float, high: float, *, prefix: str = "") -> None:
    value = cfg[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{prefix}{key} must be a number, not {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{prefix}{key} must be between {low:g} and {high:g}, not {value!r}")


def _choice(cfg: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> None:
    if cfg[key] not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}, not {cfg[key]!r}")


def _object(cfg: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = cfg[key]
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be an object, not {value!r}")
    return value


def _additional_vocab(vocab: Any) -> None:
    if not isinstance(vocab, list):
        raise ConfigError("additional_vocab must be a list of words or {content, sounds_like}")
    if len(vocab) > 1000:
        raise ConfigError(f"additional_vocab holds {len(vocab)} entries; the limit is 1000")
    for i, entry in enumerate(vocab):
        if isinstance(entry, str):
            if not entry:
                raise ConfigError(f"additional_vocab[{i}] is an empty string")
            continue
        if not isinstance(entry, Mapping) or not isinstance(entry.get("content"), str):
            raise ConfigError(f"additional_vocab[{i}] needs a string 'content'")
        if not entry["content"]:
            raise ConfigError(f"additional_vocab[{i}].content is empty")
        sounds = entry.get("sounds_like")
        if sounds is not None and (
            not isinstance(sounds, list)
            or not sounds
            or not all(isinstance(s, str) and s for s in sounds)
        ):
            raise ConfigError(f"additional_vocab[{i}].sounds_like must be non-empty strings")


def _punctuation_overrides(value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ConfigError("punctuation_overrides must be an object")
    marks = value.get("permitted_marks")
    if marks is not None and (
        not isinstance(marks, list)
        or not all(isinstance(m, str) and (len(m) == 1 or m == "all") for m in marks)
    ):
        raise ConfigError(
            "punctuation_overrides.permitted_marks must be single characters or 'all'"
        )
    if "sensitivity" in value:
        _number(value, "sensitivity", 0.0, 1.0, prefix="punctuation_overrides.")


def _speaker_config(value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ConfigError("speaker_diarization_config must be an object")
    prefix = "speaker_diarization_config."
    if "max_speakers" in value:
        n = value["max_speakers"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 2:
            raise ConfigError(f"{prefix}max_speakers must be an integer of at least 2, not {n!r}")
    if "speaker_sensitivity" in value:
        _number(value, "speaker_sensitivity", 0.0, 1.0, prefix=prefix)
    for key in ("prefer_current_speaker", "get_speakers"):
        if key in value and not isinstance(value[key], bool):
            raise ConfigError(f"{prefix}{key} must be true or false")
    speakers = value.get("speakers")
    if speakers is not None:
        if not isinstance(speakers, list):
            raise ConfigError(f"{prefix}speakers must be a list")
        for i, spk in enumerate(speakers):
            label = spk.get("label") if isinstance(spk, Mapping) else None
            if not isinstance(label, str) or not label or _RESERVED_SPEAKER_LABEL.match(label):
                raise ConfigError(f"{prefix}speakers[{i}].label {label!r} is missing or reserved")


def _channel_labels(value: Any) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError("channel_diarization_labels must be a non-empty list of strings")
    if len(set(value)) != len(value):
        raise ConfigError("channel_diarization_labels must be unique")


def _transcript_filtering(value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ConfigError("transcript_filtering_config must be an object")
    if "remove_disfluencies" in value and not isinstance(value["remove_disfluencies"], bool):
        raise ConfigError("transcript_filtering_config.remove_disfluencies must be true or false")
    replacements = value.get("replacements")
    if replacements is not None and (
        not isinstance(replacements, list) or not all(_is_replacement(r) for r in replacements)
    ):
        raise ConfigError("transcript_filtering_config.replacements must be {from, to} strings")


def _is_replacement(entry: Any) -> bool:
    return (
        isinstance(entry, Mapping)
        and isinstance(entry.get("from"), str)
        and isinstance(entry.get("to"), str)
    )
