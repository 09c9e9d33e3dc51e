"""Keyword settings of ``transcribe``/``atranscribe``/``start`` → a checked plan.

One flat set of keywords: every ``transcription_config`` field under its
protocol name (``max_delay``, ``enable_partials``, ``diarization`` …) plus
smnb's own options (``url``, ``api_key``, ``pace``, ``chunk_seconds``, ``out``,
``clock``, ``timeout`` …). Everything is validated here, with
:mod:`smnb.protocol.config`, before any connection, and an unknown keyword
fails with a suggestion.

Must not import: websockets, pandas, ``smnb.client``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smnb.audio import DEFAULT_CHUNK_SECONDS, DEFAULT_MAX_UNACKED, Pace, check_pace
from smnb.auth import TEMP_KEY_TTL, ApiKey, find_api_key, redact_url
from smnb.clock import Clock, monotonic
from smnb.exceptions import ConfigError
from smnb.protocol.config import TRANSCRIPTION_FIELDS
from smnb.protocol.messages import Message

DEFAULTS: Message = {"language": "en", "enable_partials": True}
"""transcription_config values smnb sends unless told otherwise."""

CHANNEL_MODES = ("channel", "channel_and_speaker")

OPTION_NAMES = frozenset(
    {
        "url",
        "api_key",
        "temp_key",
        "pace",
        "chunk_seconds",
        "out",
        "clock",
        "timeout",
        "max_unacked",
        "audio_format",
        "sample_rate",
        "encoding",
        "live",
        "translation_config",
        "audio_events_config",
    }
)
"""smnb's own keywords (everything else must be a transcription_config field)."""


@dataclass(frozen=True, slots=True)
class Options:
    """smnb's own settings for one session (``repr`` never shows the key)."""

    url: str | None = None
    api_key: ApiKey | None = field(default=None, repr=False)
    temp_key_ttl: int | None = None
    pace: Pace = "realtime"
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS
    out: Path | None = None
    clock: Clock = monotonic
    timeout: float | None = 60.0
    max_unacked: int = DEFAULT_MAX_UNACKED
    audio_format: str = "raw"
    sample_rate: int | None = None
    encoding: str = "pcm_s16le"
    live: bool = False
    translation_config: Message | None = None
    audio_events_config: Message | None = None

    @property
    def embedded(self) -> bool:
        """True when the session runs against smnb's own local server."""
        return self.url is None and self.api_key is None

    def __repr__(self) -> str:
        key = "<redacted>" if self.api_key is not None else None
        url = redact_url(self.url) if self.url else None
        return (
            f"Options(url={url!r}, api_key={key!r}, pace={self.pace!r}, "
            f"chunk_seconds={self.chunk_seconds!r}, out={self.out!r}, timeout={self.timeout!r})"
        )


def split_config(config: Mapping[str, Any]) -> tuple[Message, Options]:
    """Separate and check ``transcription_config`` fields and smnb options.

    ``None`` values count as "not given". Returns the transcription_config
    (with smnb's defaults, not yet validated against the spec) and the options.

    Raises:
        ConfigError: an unknown keyword or an invalid option value.
    """
    given = {k: v for k, v in config.items() if v is not None}
    unknown = sorted(set(given) - OPTION_NAMES - TRANSCRIPTION_FIELDS)
    if unknown:
        raise ConfigError(_unknown_message(unknown[0]))
    transcription = {**DEFAULTS, **{k: v for k, v in given.items() if k in TRANSCRIPTION_FIELDS}}
    opts = {k: v for k, v in given.items() if k in OPTION_NAMES}
    return transcription, _options(opts)


def _options(opts: dict[str, Any]) -> Options:
    url = opts.get("url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("ws://", "wss://"))):
        shown = redact_url(url) if isinstance(url, str) else repr(url)
        raise ConfigError(f"url must start with ws:// or wss://, not {shown}")
    api_key = opts.get("api_key")
    if api_key is not None and not isinstance(api_key, str | ApiKey):
        raise ConfigError("api_key must be a string")
    clock = opts.get("clock", monotonic)
    if not callable(clock):
        raise ConfigError("clock must be a callable returning monotonic seconds")
    return Options(
        url=url,
        api_key=find_api_key(api_key),
        temp_key_ttl=_temp_key(opts.get("temp_key")),
        pace=check_pace(opts.get("pace", "realtime")),
        chunk_seconds=_number(opts, "chunk_seconds", DEFAULT_CHUNK_SECONDS, 0.005, 10.0),
        out=_out_dir(opts.get("out")),
        clock=clock,
        timeout=_timeout(opts),
        max_unacked=_integer(opts, "max_unacked", DEFAULT_MAX_UNACKED, 1),
        audio_format=_choice(opts, "audio_format", ("raw", "file")),
        sample_rate=_integer(opts, "sample_rate", None, 1000) if "sample_rate" in opts else None,
        encoding=_choice(opts, "encoding", ("pcm_s16le", "pcm_f32le", "mulaw")),
        live=_flag(opts, "live"),
        translation_config=_mapping(opts, "translation_config"),
        audio_events_config=_mapping(opts, "audio_events_config"),
    )


def _unknown_message(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(OPTION_NAMES | TRANSCRIPTION_FIELDS), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown setting {name!r} (not a transcription_config field or an smnb option){hint}"


def _temp_key(value: Any) -> int | None:
    if value is None or value is False:
        return None
    if value is True:
        return TEMP_KEY_TTL[0]
    low, high = TEMP_KEY_TTL
    if isinstance(value, int) and low <= value <= high:
        return value
    raise ConfigError(f"temp_key must be True or a lifetime in {low}–{high} s, not {value!r}")


def _timeout(opts: Mapping[str, Any]) -> float | None:
    if "timeout" not in opts:
        return 60.0
    value = opts["timeout"]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"timeout must be a positive number of seconds, not {value!r}")
    return float(value)


def _number(opts: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = opts.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(f"{key} must be a number between {low:g} and {high:g}, not {value!r}")
    return float(value)


def _integer(opts: Mapping[str, Any], key: str, default: Any, low: int) -> Any:
    value = opts.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"{key} must be an integer of at least {low}, not {value!r}")
    return value


def _choice(opts: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = opts.get(key, choices[0])
    if value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return str(value)


def _flag(opts: Mapping[str, Any], key: str) -> bool:
    value = opts.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be True or False, not {value!r}")
    return value


def _mapping(opts: Mapping[str, Any], key: str) -> Message | None:
    value = opts.get(key)
    if value is not None and not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a dict, not {value!r}")
    return dict(value) if value is not None else None


def _out_dir(value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str | Path):
        raise ConfigError(f"out must be a directory path, not {value!r}")
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"out: {path} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"out: cannot create {path} ({exc.strerror})") from exc
    return path
