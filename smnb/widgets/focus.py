"""Keeping a widget button click from selecting its notebook cell (``keep_focus.js``).

:class:`FocusGuard` is an invisible anywidget that every live view carries: rendering it
installs, once per page, the window-level listener of ``keep_focus.js`` (the browser mic
includes the same script). Without it, a click on ▶ Start or Stop makes the widget's cell
the active one, and the next Shift+Enter re-runs that cell instead of the one the user
was on. Outside JupyterLab the listener is harmless: it only ever acts on smnb's buttons.

Must not import: smnb.session, websockets.
"""

from __future__ import annotations

from pathlib import Path

import anywidget

KEEP_FOCUS_JS = (Path(__file__).with_name("keep_focus.js")).read_text(encoding="utf-8")
"""The listener's source, shared by every smnb widget front end."""


class FocusGuard(anywidget.AnyWidget):
    """Renders nothing; installs the keep-focus listener in the page it is shown in."""

    _esm = (
        KEEP_FOCUS_JS
        + """
function render({ el }) {
  smnbKeepFocus();
  el.style.display = "none";
}
export default { render };
"""
    )
