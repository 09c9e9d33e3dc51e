"""IPython's ``display`` replaced by a recorder with the real one's calling convention.

``IPython.display.display(*objs, include=, exclude=, metadata=, transient=, display_id=,
raw=, clear=, **kwargs)``: any objects, then keywords (smnb passes ``raw=True`` with a mime
bundle, and ``display_id=True`` to get a handle back). Like IPython, the fake returns a
handle only when ``display_id`` is given; each call keeps its objects and keywords so tests
can check how display was called, not only what was shown.
"""

from __future__ import annotations

from typing import Any

import pytest


class FakeHandle:
    """An IPython DisplayHandle that records what its output was shown and rewritten with."""

    def __init__(self, objs: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.objs, self.kwargs = objs, kwargs
        self.bundles = [objs[0]] if objs else []

    def update(self, obj: Any, **kwargs: Any) -> None:
        assert kwargs.get("raw"), "smnb rewrites its outputs as raw mime bundles"
        self.bundles.append(obj)


def fake_display(monkeypatch: pytest.MonkeyPatch) -> list[FakeHandle]:
    """Replace ``IPython.display.display``; every call lands in the returned list, in order.

    smnb displays only where an IPython shell runs (a plain script prints text instead),
    so the fake stands in for that shell too.
    """
    import IPython.display

    from smnb.widgets import outputs

    monkeypatch.setattr(outputs, "_shell", lambda: object())

    calls: list[FakeHandle] = []

    def display(*objs: Any, **kwargs: Any) -> FakeHandle | None:
        calls.append(FakeHandle(objs, kwargs))
        return calls[-1] if kwargs.get("display_id") is not None else None

    monkeypatch.setattr(IPython.display, "display", display)
    return calls
