"""Notebook widgets: the live transcript view and the browser microphone.

These are views and sources only: they follow a Recorder/Result and never
import the transport (an import-linter contract in pyproject.toml). ``smnb.live`` in
:mod:`smnb.session.live` is what starts a session and shows a view. Every view is shown
with a static snapshot beside the widget (:mod:`smnb.widgets.outputs`), so renderings
without widgets still show the transcript and status; :func:`live_views` lists the views
shown in this kernel.

The names load lazily, so ``smnb.widgets.state`` (pure Python) can be imported without
ipywidgets, anywidget or pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smnb.widgets.browser_mic import BrowserMic, BrowserMicSource
    from smnb.widgets.live import LiveTranscript
    from smnb.widgets.outputs import live_views

__all__ = ["BrowserMic", "BrowserMicSource", "LiveTranscript", "live_views"]

_MODULES = {
    "BrowserMic": "smnb.widgets.browser_mic",
    "BrowserMicSource": "smnb.widgets.browser_mic",
    "LiveTranscript": "smnb.widgets.live",
    "live_views": "smnb.widgets.outputs",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'smnb.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
