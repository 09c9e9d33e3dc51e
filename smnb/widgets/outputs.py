"""Where views are shown: notebook outputs that every front end can render.

A widget's output normally carries only the widget reference, which means nothing to
GitHub, nbviewer, an untrusted notebook or an executed copy opened later: they print
``VBox(children=...``. smnb's views are shown as one output holding the widget reference
*and* a static snapshot (``text/plain``, ``text/html``); live front ends pick the widget,
the others the snapshot. :class:`Outputs` keeps the display handles so the snapshot can be
rewritten in place (``update_display_data``) when the session ends or the view is
refreshed. :func:`live_views` lists the views shown in this kernel.

With no IPython shell (a plain ``python script.py``) there is nowhere to display a bundle:
nothing is shown, and the view's last plain-text snapshot is printed once, when its
session has ended (:meth:`Outputs.print_final`), as a script user would read the result.

Must not import: smnb.session, websockets.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, cast

logger = logging.getLogger(__name__)

_SHOWN: list[weakref.ref[Any]] = []
_SHOWN_LOCK = threading.Lock()


def widget_view(widget: Any) -> dict[str, Any]:
    """The mime entry that makes live front ends render ``widget`` (ipywidgets 7 and 8)."""
    return {
        "application/vnd.jupyter.widget-view+json": {
            "version_major": 2,
            "version_minor": 0,
            "model_id": widget.model_id,
        }
    }


class Outputs:
    """The outputs one view is shown in; falsy until it is shown somewhere."""

    def __init__(self) -> None:
        self._handles: list[Any] = []
        self._console = False  # shown with no IPython shell: text on stdout, at the end
        self._printed = False

    def __bool__(self) -> bool:
        return bool(self._handles)

    def show(self, bundle: dict[str, Any]) -> None:
        """A new output in the current cell showing ``bundle`` (nothing without IPython)."""
        if _shell() is None:  # IPython's display would print the bundle's dict
            self._console = True
            return
        from IPython import display

        handle = cast(Any, display).display(bundle, raw=True, display_id=True)
        if handle is not None:
            self._handles.append(handle)

    def update(self, bundle: dict[str, Any]) -> None:
        """Rewrite every output with ``bundle`` (safe from the session loop's thread)."""
        for handle in self._handles:
            try:
                handle.update(bundle, raw=True)
            except Exception:  # no kernel to publish to (e.g. it is shutting down)
                logger.debug("could not update a view's output", exc_info=True)

    def print_final(self, text: str) -> None:
        """In a plain script, print the view's last snapshot ``text`` on stdout, once."""
        if self._console and not self._printed:
            self._printed = True
            print(text, flush=True)


def _shell() -> Any:
    try:
        from IPython.core import getipython
    except ImportError:
        return None
    return cast(Any, getipython).get_ipython()


def register(view: Any) -> None:
    """Count ``view`` among the views shown in this kernel (weakly: it may be collected)."""
    with _SHOWN_LOCK:
        if not any(ref() is view for ref in _SHOWN):
            _SHOWN.append(weakref.ref(view))


def live_views() -> list[Any]:
    """The live views displayed in this kernel that still exist, in the order first shown.

    For a notebook's last cell: stop what still runs, wait for it and refresh every view
    (``for view in smnb.widgets.live_views(): ...``) without naming each section's
    variables, so it works whichever sections were run.
    """
    with _SHOWN_LOCK:
        views = [ref() for ref in _SHOWN]
        _SHOWN[:] = [ref for ref, view in zip(_SHOWN, views, strict=True) if view is not None]
    return [view for view in views if view is not None]


def descendants(widget: Any) -> list[Any]:
    """``widget`` and every widget under it (box children), each once."""
    out: list[Any] = []
    todo = [widget]
    while todo:
        w = todo.pop()
        if any(w is seen for seen in out):
            continue
        out.append(w)
        todo.extend(getattr(w, "children", ()))
    return out
