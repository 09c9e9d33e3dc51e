"""smnb's local RT v2 server: ``async with smnb.server.serve() as url: ...``.

The recognizer interface and engine live beside the protocol side
(:mod:`~smnb.server.session`, sans-I/O) and the WebSocket transport
(:mod:`~smnb.server.app`). :func:`serve` and :func:`run` load on first use, so
worker processes that import the engine modules do not pay for websockets.

Must not import: ``smnb.client``, ``smnb.api``.
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
