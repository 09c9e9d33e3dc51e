"""One typed, validated settings object for a session: :class:`SessionOptions`.

Every setting of ``transcribe``/``atranscribe``/``start``/``live`` (and the CLI and the
sweep, which build the same object): the ``transcription_config`` fields under their
protocol names (``max_delay``, ``enable_partials``, ``diarization`` …) plus smnb's own
options (``url``, ``api_key``, ``pace``, ``chunk_seconds``, ``out``, ``clock``,
``timeout`` …). :meth:`SessionOptions.create` validates everything once, with
:mod:`smnb.protocol.config`, before any audio is opened or connection made; an unknown
name fails with a suggestion. The object is frozen; :meth:`~SessionOptions.replace`
returns a checked copy.

Must not import: websockets, pandas, the transport.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smnb.audio import DEFAULT_CHUNK_SECONDS, DEFAULT_MAX_UNACKED, Pace, check_pace
from smnb.auth import ENV_RT_URL, TEMP_KEY_TTL, ApiKey, env_rt_url, find_api_key
from smnb.clock import Clock, monotonic
from smnb.exceptions import ConfigError
from smnb.protocol.config import (
    CHANNEL_MODES,
    DEFAULT_TRANSCRIPTION,
    TRANSCRIPTION_FIELDS,
    split_unknown,
    unknown_field_message,
    validate_transcription_config,
)
from smnb.protocol.messages import Message
from smnb.recorder.sanitize import redact_url, register_url_secrets

DEFAULT_TIMEOUT = 60.0
"""Seconds the server may stay silent while it owes a message (``timeout=None``: no limit)."""

OPTION_DEFAULTS: dict[str, Any] = {
    "url": None,
    "api_key": None,
    "temp_key": False,
    "pace": "realtime",
    "chunk_seconds": DEFAULT_CHUNK_SECONDS,
    "out": None,
    "clock": None,
    "timeout": DEFAULT_TIMEOUT,
    "max_unacked": DEFAULT_MAX_UNACKED,
    "audio_format": "raw",
    "sample_rate": None,
    "encoding": "pcm_s16le",
    "live": False,
    "reconnect": True,
    "translation_config": None,
    "audio_events_config": None,
}
"""smnb's own keywords and their defaults (everything else is a transcription_config field)."""

KEYWORD_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(sorted(TRANSCRIPTION_FIELDS)),
    **DEFAULT_TRANSCRIPTION,
    **OPTION_DEFAULTS,
}
"""Every keyword of the entry points with its default (their signatures are checked against it)."""

OPTION_NAMES = frozenset(OPTION_DEFAULTS)

RECONNECT_CODES = frozenset({1001, 1006, 1011, 1012, 1013, 1014})
"""Close codes worth a new connection: going away, abnormal (no close frame: a reset
or a dead network), internal error (also a keepalive timeout), service restart,
try again later, bad gateway. A normal close (1000), a protocol violation (1002–1010)
or a Speechmatics error code (4xxx) ends the session."""


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """How a session reconnects: ``attempts`` per drop (the first at once, then after
    ``backoff`` seconds, doubling up to ``max_backoff``), ``limit`` drops per session."""

    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 8.0
    limit: int = 10

    def delays(self) -> Iterator[float]:
        """Seconds to wait before each attempt."""
        delay = 0.0
        for _ in range(self.attempts):
            yield delay
            delay = min(self.max_backoff, self.backoff if delay == 0 else 2 * delay)

    @staticmethod
    def qualifies(code: int | None) -> bool:
        """Whether a close with ``code`` (None: no close frame) is worth a new connection."""
        return code is None or code in RECONNECT_CODES


def reconnect_policy(value: Any) -> ReconnectPolicy | None:
    """The policy for a ``reconnect=`` setting: True (default policy), False/None (off),
    or a number of attempts per drop.

    Raises:
        ConfigError: anything else.
    """
    if value is True:
        return ReconnectPolicy()
    if value is False or value is None:
        return None
    if isinstance(value, ReconnectPolicy):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return ReconnectPolicy(attempts=value)
    raise ConfigError(f"reconnect must be True, False or a number of attempts, not {value!r}")


__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_TRANSCRIPTION",
    "KEYWORD_DEFAULTS",
    "RECONNECT_CODES",
    "ReconnectPolicy",
    "SessionOptions",
    "options_from_keywords",
]


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """Every setting of one session, checked (``repr`` never shows the key).

    Build it with :meth:`create` (keywords or a mapping, validated), never directly.
    ``transcription_config`` is the validated ``StartRecognition.transcription_config``
    (smnb's defaults filled in); the other fields are smnb's own options.
    """

    transcription_config: Message = field(default_factory=lambda: dict(DEFAULT_TRANSCRIPTION))
    url: str | None = None
    api_key: ApiKey | None = field(default=None, repr=False)
    temp_key_ttl: int | None = None
    pace: Pace = "realtime"
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS
    out: Path | None = None
    clock: Clock = monotonic
    timeout: float | None = DEFAULT_TIMEOUT
    max_unacked: int = DEFAULT_MAX_UNACKED
    audio_format: str = "raw"
    sample_rate: int | None = None
    encoding: str = "pcm_s16le"
    live: bool = False
    reconnect: ReconnectPolicy | None = ReconnectPolicy()
    translation_config: Message | None = None
    audio_events_config: Message | None = None

    @classmethod
    def create(
        cls, settings: Mapping[str, Any] | None = None, /, **keywords: Any
    ) -> SessionOptions:
        """Check ``settings`` and ``keywords`` (keywords win) and return the options.

        Names are the keywords of :func:`smnb.transcribe`. ``None`` means "not given"
        (the default applies), except for ``timeout``, where ``None`` means no timeout.
        ``api_key`` falls back to ``SPEECHMATICS_API_KEY`` (and the Colab secret).

        Raises:
            ConfigError: an unknown name (with a suggestion) or an invalid value.
            AuthError: an unusable API key.
        """
        given = {**(settings or {}), **keywords}
        given = {k: v for k, v in given.items() if v is not None or k == "timeout"}
        unknown = sorted(set(given) - OPTION_NAMES - TRANSCRIPTION_FIELDS)
        if unknown:
            raise ConfigError(_unknown_message(unknown[0]))
        transcription = {
            **DEFAULT_TRANSCRIPTION,
            **{k: _plain(v) for k, v in given.items() if k in TRANSCRIPTION_FIELDS},
        }
        return _options(validate_transcription_config(transcription), given)

    def replace(self, **keywords: Any) -> SessionOptions:
        """A checked copy with ``keywords`` changed (same names and rules as :meth:`create`)."""
        return SessionOptions.create(self.keywords(), **keywords)

    def keywords(self) -> dict[str, Any]:
        """The keywords that rebuild these options with :meth:`create`."""
        return {
            **self.transcription_config,
            "url": self.url,
            "api_key": self.api_key,
            "temp_key": self.temp_key_ttl,
            "pace": self.pace,
            "chunk_seconds": self.chunk_seconds,
            "out": self.out,
            "clock": self.clock,
            "timeout": self.timeout,
            "max_unacked": self.max_unacked,
            "audio_format": self.audio_format,
            "sample_rate": self.sample_rate,
            "encoding": self.encoding,
            "live": self.live,
            "reconnect": self.reconnect if self.reconnect is not None else False,
            "translation_config": self.translation_config,
            "audio_events_config": self.audio_events_config,
        }

    @property
    def embedded(self) -> bool:
        """True when the session runs against smnb's own local server (no url, no
        ``SPEECHMATICS_RT_URL``, no key: :func:`smnb.auth.env_rt_url`)."""
        return self.url is None and self.api_key is None

    @property
    def per_channel(self) -> bool:
        """True when each channel of the source is sent separately (channel diarization)."""
        return self.transcription_config.get("diarization") in CHANNEL_MODES

    def __repr__(self) -> str:
        key = "<redacted>" if self.api_key is not None else None
        url = redact_url(self.url) if self.url else None
        return (
            f"SessionOptions({self.transcription_config!r}, url={url!r}, api_key={key!r}, "
            f"pace={self.pace!r}, chunk_seconds={self.chunk_seconds!r}, out={self.out!r}, "
            f"timeout={self.timeout!r})"
        )


def options_from_keywords(
    options: SessionOptions | None, keywords: Mapping[str, Any]
) -> SessionOptions:
    """The entry points' settings: ``options`` (if given) overridden by every keyword
    whose value differs from its default (:data:`KEYWORD_DEFAULTS`); checked once."""
    if options is None:
        return SessionOptions.create(keywords)
    if not isinstance(options, SessionOptions):
        raise ConfigError(f"options must be a SessionOptions, not {type(options).__name__}")
    changed = {
        k: v for k, v in keywords.items() if k not in KEYWORD_DEFAULTS or v != KEYWORD_DEFAULTS[k]
    }
    return options.replace(**changed) if changed else options


def _options(transcription: Message, opts: Mapping[str, Any]) -> SessionOptions:
    url, name = opts.get("url"), "url"
    if url is None:  # the endpoint rule (smnb.auth.env_rt_url): the variable, key or not
        url, name = env_rt_url(), ENV_RT_URL
    if isinstance(url, str):
        register_url_secrets(url)  # user-info or ?jwt= in the URL: redacted everywhere
    if url is not None and (not isinstance(url, str) or not url.startswith(("ws://", "wss://"))):
        shown = redact_url(url) if isinstance(url, str) else repr(url)
        raise ConfigError(f"{name} must start with ws:// or wss://, not {shown}")
    api_key = opts.get("api_key")
    if api_key is not None and not isinstance(api_key, str | ApiKey):
        raise ConfigError("api_key must be a string")
    clock = opts.get("clock", monotonic)
    if not callable(clock):
        raise ConfigError("clock must be a callable returning monotonic seconds")
    return SessionOptions(
        transcription_config=transcription,
        url=url,
        api_key=find_api_key(api_key),
        temp_key_ttl=_temp_key(opts.get("temp_key")),
        pace=check_pace(opts.get("pace", "realtime")),
        chunk_seconds=_number(opts, "chunk_seconds", DEFAULT_CHUNK_SECONDS, 0.005, 10.0),
        out=_out_dir(opts.get("out")),
        clock=clock,
        timeout=_timeout(opts.get("timeout", DEFAULT_TIMEOUT)),
        max_unacked=_integer(opts, "max_unacked", DEFAULT_MAX_UNACKED, 1),
        audio_format=_choice(opts, "audio_format", ("raw", "file")),
        sample_rate=_integer(opts, "sample_rate", None, 1000) if "sample_rate" in opts else None,
        encoding=_choice(opts, "encoding", ("pcm_s16le", "pcm_f32le", "mulaw")),
        live=_flag(opts, "live"),
        reconnect=reconnect_policy(opts.get("reconnect", True)),
        translation_config=_mapping(opts, "translation_config"),
        audio_events_config=_mapping(opts, "audio_events_config"),
    )


def _plain(value: Any) -> Any:
    # JSON has lists and objects: a tuple of labels or a mapping proxy is sent as one.
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping) and not isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


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


def _timeout(value: Any) -> float | None:
    if value is None:
        return None  # wait as long as the server takes
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"timeout must be a positive number of seconds or None, not {value!r}")
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
    _, unknown = split_unknown({key: value})
    if unknown:
        raise ConfigError(unknown_field_message(*unknown[0]))
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
