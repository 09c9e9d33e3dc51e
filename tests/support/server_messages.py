"""Every server message the test suite produces, checked against the RT v2 schema.

:func:`install` wraps the encoder :mod:`smnb.server.app` sends every message through, so
each message any test's real server sends is validated as it goes out; the sans-I/O session
drivers call :func:`record` themselves. A message that does not validate fails the test
that produced it (see ``tests/conftest.py``); the terminal summary counts them all.
"""

from __future__ import annotations

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


def install() -> Callable[[], None]:
    """Validate what the real server sends; returns the function that undoes it."""
    from smnb.server import app

    validators()  # build them now, not inside a server's event loop
    original = app.encode

    def encode(message: dict[str, Any]) -> str:
        record(message)
        return original(message)

    app.encode = encode  # type: ignore[assignment]

    def undo() -> None:
        app.encode = original  # type: ignore[assignment]

    return undo
