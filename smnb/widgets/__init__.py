"""Notebook widgets: the live transcript view and the browser microphone.

These are views and sources only: they follow a Recorder/Result and never
import the transport (an import-linter contract in pyproject.toml). ``smnb.live`` in
:mod:`smnb.notebook` is what starts a session and shows a view.
"""

from __future__ import annotations

from smnb.widgets.browser_mic import BrowserMic, BrowserMicSource
from smnb.widgets.live import LiveTranscript

__all__ = ["BrowserMic", "BrowserMicSource", "LiveTranscript"]
