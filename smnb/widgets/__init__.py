"""Notebook widgets: the live transcript view and the browser microphone.

These are views and sources only: they follow a Recorder/Result and never
import the transport (an import-linter contract in pyproject.toml). ``smnb.live`` in
:mod:`smnb.session.live` is what starts a session and shows a view. Every view is shown
with a static snapshot beside the widget (:mod:`smnb.widgets.outputs`), so renderings
without widgets still show the transcript and status; :func:`live_views` lists the views
shown in this kernel.
"""

from __future__ import annotations

from smnb.widgets.browser_mic import BrowserMic, BrowserMicSource
from smnb.widgets.live import LiveTranscript
from smnb.widgets.outputs import live_views

__all__ = ["BrowserMic", "BrowserMicSource", "LiveTranscript", "live_views"]
