"""smnb: a notebook-first toolkit for the Speechmatics Real-Time (RT v2) API.

Three lines in a notebook::

    import smnb
    result = await smnb.atranscribe("speech.wav")   # or smnb.transcribe(...) anywhere
    result.words                                     # a pandas DataFrame

With no API key, smnb starts its own local RT v2 server (backed by the offline
pocketsphinx recognizer) on a loopback port; with ``SPEECHMATICS_API_KEY`` set
it talks to the Speechmatics SaaS.

Heavy parts (pandas, matplotlib, widgets, the server) load on first use, so
``import smnb`` stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from smnb._version import __version__
from smnb.exceptions import (
    AudioError,
    AuthError,
    ConfigError,
    ConnectionLost,
    DeviceError,
    ProtocolError,
    ServerError,
    SessionCancelled,
    SessionError,
    SessionTimeout,
    SmnbError,
)

if TYPE_CHECKING:
    from smnb.api import Transcription, atranscribe, start, transcribe
    from smnb.loading import load
    from smnb.notebook import live
    from smnb.result import Result
    from smnb.sweep_runner import asweep, sweep

__all__ = [
    "AudioError",
    "AuthError",
    "ConfigError",
    "ConnectionLost",
    "DeviceError",
    "ProtocolError",
    "Result",
    "ServerError",
    "SessionCancelled",
    "SessionError",
    "SessionTimeout",
    "SmnbError",
    "Transcription",
    "__version__",
    "asweep",
    "atranscribe",
    "live",
    "load",
    "start",
    "sweep",
    "transcribe",
]

_LAZY = {
    "Result": "smnb.result",
    "Transcription": "smnb.api",
    "atranscribe": "smnb.api",
    "live": "smnb.notebook",
    "load": "smnb.loading",
    "start": "smnb.api",
    "sweep": "smnb.sweep_runner",
    "asweep": "smnb.sweep_runner",
    "transcribe": "smnb.api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'smnb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
