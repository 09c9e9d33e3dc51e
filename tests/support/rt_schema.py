"""The RT v2 server → client messages as JSON Schema, and a validator for them.

Written for smnb from the official AsyncAPI spec, ``spec/realtime.yaml`` of
``speechmatics/docs`` (commit 8783a7a, MIT licence, "Copyright © 2025 Speechmatics
Limited"): every ``subscribe`` message with the same fields, types, enums, ranges and
required lists, under the spec's own schema names, so that a message valid here is valid
there. One addition, from the docs' prose rather than the spec: ``validation_warning`` in
``WarningTypeEnum``, the type the service documents for configuration it accepted but
dropped (docs: features/custom-dictionary), which the local server uses for every option it
accepts without honouring.

``SMNB_RT_SPEC=/path/to/realtime.yaml`` validates against that file instead (its
``components.schemas``, with the same one addition), so the suite can be checked against
the official text itself.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

Schema = dict[str, Any]

DOCUMENTED_EXTRA_WARNINGS = ("validation_warning",)


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def _message(name: str, props: Schema, required: list[str]) -> Schema:
    return {
        "type": "object",
        "properties": {"message": {"const": name}, **props},
        "required": ["message", *required],
    }


_NUMBER = {"type": "number"}
_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_BOOLEAN = {"type": "boolean"}


def _transcript(name: str) -> Schema:
    return _message(
        name,
        {
            "format": _STRING,
            "metadata": _ref("RecognitionMetadata"),
            "results": {"type": "array", "items": _ref("RecognitionResult")},
            "channel": _STRING,
            "forced": _BOOLEAN,
        },
        ["metadata", "results"],
    )


def _translation(name: str) -> Schema:
    return _message(
        name,
        {
            "format": _STRING,
            "language": _STRING,
            "results": {"type": "array", "items": _ref("TranslatedSentence")},
        },
        ["language", "results"],
    )


def _written() -> dict[str, Schema]:
    alternative = {
        "type": "object",
        "properties": {
            "content": _STRING,
            "confidence": _NUMBER,
            "language": _STRING,
            "display": _ref("RecognitionDisplay"),
            "speaker": _STRING,
            "tags": {"type": "array", "items": _ref("RecognitionAlternativeTagsEnum")},
        },
        "required": ["content", "confidence"],
    }
    timed_form = {
        "start_time": _NUMBER,
        "end_time": _NUMBER,
        "alternatives": {"type": "array", "items": _ref("RecognitionAlternative")},
    }
    return {
        "RecognitionStarted": _message(
            "RecognitionStarted",
            {
                "orchestrator_version": _STRING,
                "id": _STRING,
                "language_pack_info": _ref("LanguagePackInfo"),
                "channel_ids": {"type": "array", "items": _STRING},
            },
            [],
        ),
        "LanguagePackInfo": {
            "type": "object",
            "properties": {
                "language_description": _STRING,
                "word_delimiter": _STRING,
                "writing_direction": _ref("WritingDirectionEnum"),
                "itn": _BOOLEAN,
                "adapted": _BOOLEAN,
            },
            "required": ["word_delimiter"],
        },
        "WritingDirectionEnum": {"type": "string", "enum": ["left-to-right", "right-to-left"]},
        "AudioAdded": _message("AudioAdded", {"seq_no": _INTEGER}, ["seq_no"]),
        "ChannelAudioAdded": _message(
            "ChannelAudioAdded", {"seq_no": _INTEGER, "channel": _STRING}, ["channel", "seq_no"]
        ),
        "AddPartialTranscript": _transcript("AddPartialTranscript"),
        "AddTranscript": _transcript("AddTranscript"),
        "RecognitionMetadata": {
            "type": "object",
            "properties": {"start_time": _NUMBER, "end_time": _NUMBER, "transcript": _STRING},
            "required": ["start_time", "end_time", "transcript"],
        },
        "RecognitionResult": {
            "type": "object",
            "properties": {
                "type": _ref("RecognitionResultTypeEnum"),
                "start_time": _NUMBER,
                "end_time": _NUMBER,
                "attaches_to": _ref("AttachesToEnum"),
                "is_eos": _BOOLEAN,
                "alternatives": {"type": "array", "items": _ref("RecognitionAlternative")},
                "volume": {"type": "number", "minimum": 0, "maximum": 100},
                "entity_class": _STRING,
                "spoken_form": {"type": "array", "items": _ref("SpokenFormRecognitionResult")},
                "written_form": {"type": "array", "items": _ref("WrittenFormRecognitionResult")},
            },
            "required": ["type", "start_time", "end_time"],
        },
        "RecognitionAlternative": alternative,
        "RecognitionAlternativeTagsEnum": {"type": "string", "enum": ["disfluency", "profanity"]},
        "RecognitionDisplay": {
            "type": "object",
            "properties": {"direction": {"type": "string", "enum": ["ltr", "rtl"]}},
            "required": ["direction"],
        },
        "RecognitionResultTypeEnum": {"type": "string", "enum": ["word", "punctuation", "entity"]},
        "AttachesToEnum": {"type": "string", "enum": ["next", "previous", "none", "both"]},
        "SpokenFormRecognitionResult": {
            "type": "object",
            "properties": {
                **timed_form,
                "type": {"type": "string", "enum": ["word", "punctuation"]},
            },
            "required": ["start_time", "end_time", "type", "alternatives"],
        },
        "WrittenFormRecognitionResult": {
            "type": "object",
            "properties": {**timed_form, "type": {"type": "string", "enum": ["word"]}},
            "required": ["start_time", "end_time", "type", "alternatives"],
        },
    }


def _events_and_status() -> dict[str, Schema]:
    info_types = ["recognition_quality", "concurrent_session_usage"]
    warning_types = [
        "duration_limit_exceeded",
        "unsupported_translation_pair",
        "idle_timeout",
        "session_timeout",
        "empty_translation_target_list",
        "add_audio_after_eos",
        "speaker_id",
    ]
    error_types = [
        "invalid_message", "invalid_model", "invalid_language", "invalid_config",
        "invalid_audio_type", "invalid_output_format", "not_authorised", "not_allowed",
        "job_error", "protocol_error", "quota_exceeded", "timelimit_exceeded", "idle_timeout",
        "session_timeout", "unknown_error",
    ]  # fmt: skip
    status = {"reason": _STRING, "code": _INTEGER, "seq_no": _INTEGER}
    identifiers = {"type": "array", "minItems": 1, "uniqueItems": True, "items": _STRING}
    return {
        "EndOfUtterance": _message(
            "EndOfUtterance",
            {"metadata": _ref("EndOfUtteranceMetadata"), "channel": _STRING, "forced": _BOOLEAN},
            ["metadata"],
        ),
        "EndOfUtteranceMetadata": {
            "type": "object",
            "properties": {"start_time": _NUMBER, "end_time": _NUMBER},
        },
        "AddPartialTranslation": _translation("AddPartialTranslation"),
        "AddTranslation": _translation("AddTranslation"),
        "TranslatedSentence": {
            "type": "object",
            "properties": {
                "content": _STRING,
                "start_time": _NUMBER,
                "end_time": _NUMBER,
                "speaker": _STRING,
            },
            "required": ["content", "start_time", "end_time"],
        },
        "EndOfTranscript": _message("EndOfTranscript", {}, []),
        "AudioEventStarted": _message(
            "AudioEventStarted",
            {"event": _ref("AudioEventStartData"), "channel": _STRING},
            ["event"],
        ),
        "AudioEventEnded": _message(
            "AudioEventEnded", {"event": _ref("AudioEventEndData"), "channel": _STRING}, ["event"]
        ),
        "AudioEventStartData": {
            "type": "object",
            "properties": {
                "type": _STRING,
                "start_time": _NUMBER,
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "required": ["type", "start_time", "confidence"],
        },
        "AudioEventEndData": {
            "type": "object",
            "properties": {"type": _STRING, "end_time": _NUMBER},
            "required": ["type", "end_time"],
        },
        "Info": _message(
            "Info",
            {
                "type": _ref("InfoTypeEnum"),
                **status,
                "quality": _STRING,
                "usage": _NUMBER,
                "quota": _NUMBER,
                "last_updated": _STRING,
                "region": _STRING,
            },
            ["type", "reason"],
        ),
        "Warning": _message(
            "Warning",
            {"type": _ref("WarningTypeEnum"), **status, "duration_limit": _NUMBER},
            ["type", "reason"],
        ),
        "Error": _message("Error", {"type": _ref("ErrorTypeEnum"), **status}, ["type", "reason"]),
        "InfoTypeEnum": {"type": "string", "enum": info_types},
        "WarningTypeEnum": {"type": "string", "enum": warning_types},
        "ErrorTypeEnum": {"type": "string", "enum": error_types},
        "SpeakersResult": _message(
            "SpeakersResult",
            {"speakers": {"type": "array", "items": _ref("SpeakersResultItem")}},
            ["speakers"],
        ),
        "SpeakersResultItem": {
            "type": "object",
            "properties": {
                "label": {"type": "string", "minLength": 1},
                "speaker_identifiers": identifiers,
            },
            "required": ["label", "speaker_identifiers"],
        },
    }


SERVER_MESSAGES = (
    "RecognitionStarted", "AudioAdded", "ChannelAudioAdded", "AddPartialTranscript",
    "AddTranscript", "AddPartialTranslation", "AddTranslation", "EndOfTranscript",
    "AudioEventStarted", "AudioEventEnded", "EndOfUtterance", "Info", "Warning", "Error",
    "SpeakersResult",
)  # fmt: skip
"""The spec's ``channels.subscribe.messages``, each named as its payload schema."""


def written_schemas() -> dict[str, Schema]:
    return {**_written(), **_events_and_status()}


def official_schemas(path: Path) -> dict[str, Schema]:
    """``components.schemas`` of an AsyncAPI file, with refs pointing into ``$defs``."""
    import yaml  # only for this optional check

    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    text = json.dumps(spec["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/")
    schemas: dict[str, Schema] = json.loads(text)
    return schemas


@cache
def validators() -> dict[str, Draft202012Validator]:
    """A validator per server message type (the official file's if ``SMNB_RT_SPEC`` is set)."""
    spec = os.environ.get("SMNB_RT_SPEC")
    defs = official_schemas(Path(spec)) if spec else written_schemas()
    warning_enum = defs["WarningTypeEnum"]
    warning_enum["enum"] = [*warning_enum["enum"], *DOCUMENTED_EXTRA_WARNINGS]
    out = {}
    for name in SERVER_MESSAGES:
        schema = {"$defs": defs, "$ref": f"#/$defs/{name}"}
        Draft202012Validator.check_schema(schema)
        out[name] = Draft202012Validator(schema)
    return out


def problems(message: Any) -> list[str]:
    """Why ``message`` is not a valid server message (empty if it is)."""
    kind = message.get("message") if isinstance(message, dict) else None
    validator = validators().get(str(kind))
    if validator is None:
        return [f"{kind!r} is not a server message type of the spec"]
    return [
        f"{kind}.{'.'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(message)
    ]
