"""smnb: a notebook-first toolkit for the Speechmatics Real-Time (RT v2) API.

Three lines in a notebook::

    import smnb
    result = await smnb.atranscribe("speech.wav")   # or smnb.transcribe(...) anywhere
    result.words                                     # a pandas DataFrame

With no API key, smnb starts its own local RT v2 server (backed by the offline
pocketsphinx recognizer) on a loopback port; with ``SPEECHMATICS_API_KEY`` set
it talks to the Speechmatics SaaS.

The package exports the functions (``transcribe``, ``atranscribe``, ``start``,
``live``, ``load``, ``sweep``, ``asweep``) and every type a user receives or passes
(``Result``, ``Transcription``, ``SessionOptions``, ``SweepResult``, ``Microphone``,
``BrowserMic``, …, and the exception tree). Every subpackage is reachable as an
attribute after a bare ``import smnb`` (``smnb.server.serve``, ``smnb.widgets``,
``smnb.experiment.SweepResult``). Heavy parts (pandas, matplotlib, widgets, the
server) load on first use, so ``import smnb`` stays quick.
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
    EngineAtCapacity,
    EngineWorkerError,
    LocalServerError,
    LogError,
    LogNotFound,
    ProtocolError,
    Rejected,
    ServerError,
    SessionCancelled,
    SessionClosed,
    SessionError,
    SessionTimeout,
    SmnbError,
    UndecodableAudio,
    UnsupportedAudio,
)

if TYPE_CHECKING:
    from smnb.audio.mic import Microphone
    from smnb.audio.sources import AudioSource
    from smnb.experiment.result import SweepResult
    from smnb.experiment.runner import asweep, sweep
    from smnb.metrics.reference import Reference
    from smnb.result import Result, Results
    from smnb.result.load import load
    from smnb.session.live import live
    from smnb.session.options import SessionOptions
    from smnb.session.run import atranscribe, transcribe
    from smnb.session.start import Transcription, start
    from smnb.widgets.browser_mic import BrowserMic
    from smnb.widgets.live import LiveTranscript

__all__ = [
    "AudioError",
    "AudioSource",
    "AuthError",
    "BrowserMic",
    "ConfigError",
    "ConnectionLost",
    "DeviceError",
    "EngineAtCapacity",
    "EngineWorkerError",
    "LiveTranscript",
    "LocalServerError",
    "LogError",
    "LogNotFound",
    "Microphone",
    "ProtocolError",
    "Reference",
    "Rejected",
    "Result",
    "Results",
    "ServerError",
    "SessionCancelled",
    "SessionClosed",
    "SessionError",
    "SessionOptions",
    "SessionTimeout",
    "SmnbError",
    "SweepResult",
    "Transcription",
    "UndecodableAudio",
    "UnsupportedAudio",
    "__version__",
    "asweep",
    "atranscribe",
    "live",
    "load",
    "start",
    "sweep",
    "transcribe",
]

_LAZY: dict[str, tuple[str, ...]] = {
    "AudioSource": ("smnb.audio.sources",),
    "BrowserMic": ("smnb.widgets.browser_mic",),
    "LiveTranscript": ("smnb.widgets.live",),
    "Microphone": ("smnb.audio.mic",),
    "Reference": ("smnb.metrics.reference",),
    "Result": ("smnb.result.result",),
    "Results": ("smnb.result.load",),
    "SessionOptions": ("smnb.session.options",),
    "SweepResult": ("smnb.experiment.result",),
    "Transcription": ("smnb.session.start",),
    "asweep": ("smnb.experiment.runner",),
    "atranscribe": ("smnb.session.run",),
    "live": ("smnb.session.live",),
    "load": ("smnb.result.load",),
    "start": ("smnb.session.start",),
    "sweep": ("smnb.experiment.runner",),
    "transcribe": ("smnb.session.run",),
}
"""Exported name → the module defining it (first that exists: a move in progress)."""

SUBPACKAGES = frozenset(
    {
        "audio",
        "auth",
        "cli",
        "clock",
        "experiment",
        "metrics",
        "plots",
        "protocol",
        "recorder",
        "result",
        "server",
        "session",
        "tables",
        "widgets",
    }
)
"""Subpackages and modules reachable as attributes after a bare ``import smnb``."""


def __getattr__(name: str) -> Any:
    if name in SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    modules = _LAZY.get(name)
    if modules is None:
        raise AttributeError(f"module 'smnb' has no attribute {name!r}")
    value = getattr(_first_module(modules), name)
    globals()[name] = value  # later lookups skip this function
    return value


def _first_module(names: tuple[str, ...]) -> Any:
    for module in names[:-1]:
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module exists; something it imports is missing
                raise
    return importlib.import_module(names[-1])


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | SUBPACKAGES)
