"""smnb.widgets.focus: the keep-focus listener every smnb widget front end installs.

The behaviour itself (a click on ▶ Start leaves the active cell alone, so Shift+Enter runs
the next cell, not the widget's) is checked in a real JupyterLab by
tests/browser/test_live_in_jupyterlab.py; here, that the script is where it must be.
"""

from __future__ import annotations

from smnb.widgets import BrowserMic
from smnb.widgets.focus import KEEP_FOCUS_JS, FocusGuard


def test_the_listener_runs_before_the_notebook_and_only_on_smnb_buttons() -> None:
    # Capture phase on the window (before the notebook's own capture listener), once per
    # page, acting on buttons inside smnb's live views and microphones only.
    assert 'window.addEventListener("mousedown", guard, true)' in KEEP_FOCUS_JS
    assert 'window.addEventListener("pointerdown", guard, true)' in KEEP_FOCUS_JS
    assert 'closest(".smnb-live button, .smnb-mic button")' in KEEP_FOCUS_JS
    assert "window.__smnbKeepFocus = true" in KEEP_FOCUS_JS


def test_the_guard_and_the_microphone_install_it_when_rendered() -> None:
    guard = FocusGuard()
    assert guard._esm.startswith(KEEP_FOCUS_JS) and "smnbKeepFocus();" in guard._esm
    assert 'el.style.display = "none"' in guard._esm
    mic = BrowserMic()
    assert mic._esm.startswith(KEEP_FOCUS_JS) and "smnbKeepFocus();" in mic._esm
