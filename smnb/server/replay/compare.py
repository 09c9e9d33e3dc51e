"""How a replaying client's request differs from the recorded one, in words.

Pure functions: two configurations in, a list of differences (or a sentence) out.
Unset values (``None``) count as absent, so the SDK's fully spelled-out
``TranscriptionConfig`` compares equal to a client that leaves those fields out.

Stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smnb.protocol.messages import Message

_MISSING = object()


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as ``{"a.b": value}``, unset values dropped."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif value is not None:
            out[name] = value
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b  # True is not 1 here
    return bool(a == b)


def _shown(value: Any) -> str:
    return "not set" if value is _MISSING else repr(value)


def config_differences(recorded: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """``["max_delay 2 (recorded 0.7)", …]``, one entry per differing setting."""
    old, new = flatten(recorded), flatten(given)
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, _MISSING), new.get(key, _MISSING)
        if a is _MISSING or b is _MISSING or not _same(a, b):
            out.append(f"{key} {_shown(b)} (recorded {_shown(a)})")
    return out


def describe_format(audio_format: Mapping[str, Any]) -> str:
    """``"raw pcm_s16le at 16000 Hz"`` or ``"file"``."""
    kind = str(audio_format.get("type", "file"))
    if kind != "raw":
        return kind
    return f"raw {audio_format.get('encoding')} at {audio_format.get('sample_rate')} Hz"


def format_difference(recorded: Message, given: Any) -> str | None:
    """Why ``given`` is not the recorded ``audio_format`` (None when it is)."""
    if not isinstance(given, Mapping):
        return "StartRecognition has no audio_format"
    keys = ("type", "encoding", "sample_rate") if recorded.get("type") == "raw" else ("type",)
    default = {"type": "file"}
    if all(_same(recorded.get(k, default.get(k)), given.get(k, default.get(k))) for k in keys):
        return None
    return (
        f"this recording's audio was {describe_format(recorded)}; "
        f"StartRecognition asks for {describe_format(given)}"
    )
