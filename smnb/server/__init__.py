"""smnb's local RT v2 server: ``async with smnb.server.serve() as url: ...``.

One package per layer: :mod:`~smnb.server.protocol` (the session state machine,
sans-I/O), :mod:`~smnb.server.audio` (client audio → 16 kHz), :mod:`~smnb.server.engine`
(recognizers in worker processes), :mod:`~smnb.server.pocketsphinx` (the engine itself,
behind the :mod:`~smnb.server.recognizer` interface) and :mod:`~smnb.server.app` (the
WebSocket transport). :func:`serve` and :func:`run` load on first use, so worker
processes that import the engine modules do not pay for websockets.

Must not import the client (``smnb.session``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smnb.server.app import run, serve

__all__ = ["run", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from smnb.server import app

        return getattr(app, name)
    raise AttributeError(f"module 'smnb.server' has no attribute {name!r}")
