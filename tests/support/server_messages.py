"""Every server message the test suite produces, checked against the RT v2 schema.

:func:`install` wraps the encoder the server sends every message through (:data:`SENDERS`), so
each message any test's real server sends is validated as it goes out; the sans-I/O session
drivers call :func:`record` themselves. A message that does not validate fails the test
that produced it (see ``tests/conftest.py``); the terminal summary counts them all.
"""

from __future__ import annotations

import importlib
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.support.rt_schema import problems, validators

_lock = threading.Lock()
checked: Counter[str] = Counter()
"""Messages validated, per message type, over the whole run."""
failures: list[str] = []
"""Problems not yet reported by a test's teardown."""


def record(message: Any) -> None:
    """Validate one server message (the failure is reported when the test ends)."""
    found = problems(message)
    with _lock:
        checked[str(message.get("message") if isinstance(message, dict) else message)] += 1
        failures.extend(f"{p} in {message!r:.300}" for p in found)


def take_failures() -> list[str]:
    with _lock:
        out = failures[:]
        failures.clear()
    return out


SENDERS = ("smnb.server.app", "smnb.server.connection")
"""The modules whose ``encode`` turns every outgoing server message into a frame. Not yet
``smnb.server.replay.transport``: its ``Warning replay_mismatch`` is a type the spec does not
have (``validation_warning`` is the documented one for a config the server cannot honour)."""


def install() -> Callable[[], None]:
    """Validate what the real server sends; returns the function that undoes it."""
    validators()  # build them now, not inside a server's event loop
    modules = [importlib.import_module(name) for name in SENDERS]
    originals = [module.encode for module in modules]

    def wrap(original: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], str]:
        def encode(message: dict[str, Any]) -> str:
            record(message)
            return original(message)

        return encode

    for module, original in zip(modules, originals, strict=True):
        module.encode = wrap(original)

    def undo() -> None:
        for module, original in zip(modules, originals, strict=True):
            module.encode = original

    return undo
