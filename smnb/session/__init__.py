"""Running sessions: settings → prepared session → transport, from sync or async code.

- :mod:`~smnb.session.options`: :class:`SessionOptions`, every setting, checked once;
- :mod:`~smnb.session.prepare`: audio opened, recorder and live Result made, endpoint chosen;
- :mod:`~smnb.session.run`: ``transcribe`` / ``atranscribe``;
- :mod:`~smnb.session.start`: ``start`` and its :class:`Transcription` handle;
- :mod:`~smnb.session.transport`: the asyncio runner around the sans-I/O
  :class:`~smnb.protocol.session.ClientSession`; it owns each session's one outcome;
- :mod:`~smnb.session.connect`: the handshake, where websockets errors become smnb's;
- :mod:`~smnb.session.failures`: one clear line for every connection failure;
- :mod:`~smnb.session.embedded`: the process's one shared local server;
- :mod:`~smnb.session.sync`: run a coroutine from sync code or inside a running loop;
- :mod:`~smnb.session.live`: ``smnb.live``, a session shown in a live widget.

May import: :mod:`smnb.protocol`, :mod:`smnb.recorder`, :mod:`smnb.audio`,
:mod:`smnb.auth`, :mod:`smnb.result`, websockets (the transport only), and
:mod:`smnb.server` lazily for the embedded server. ``live`` alone imports
:mod:`smnb.widgets`. The transport never imports pandas, tables, widgets or plots.

Submodules load on first attribute access, so ``import smnb.session`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = (
    "connect",
    "embedded",
    "failures",
    "live",
    "options",
    "prepare",
    "run",
    "start",
    "sync",
    "transport",
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
