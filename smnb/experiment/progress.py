"""Sweep progress: one line that stays true in live notebooks, saved copies and terminals.

In a Jupyter kernel the line is one display output (``text/plain`` and ``text/html``)
rewritten in place with ``update_display_data``: an executed or saved notebook keeps the
last state ("6/6 sessions done"), where a progress-bar widget would show a frozen 0/6
outside a live kernel. Elsewhere it is a tqdm bar on stderr, as command-line tools do.

Warm-ups are announced, never counted: the count is of measured sessions only, as in
:class:`~smnb.experiment.SweepResult`'s repr.

No asyncio; IPython and tqdm are imported only when a line is shown.
"""

from __future__ import annotations

import html
import sys
from typing import Any, cast

from smnb.clock import Clock, monotonic


def _display(bundle: dict[str, str]) -> Any:
    """Show ``bundle`` as a new output; returns its handle (``update`` rewrites it)."""
    from IPython import display

    return cast(Any, display).display(bundle, raw=True, display_id=True)


def _kernel() -> Any:
    """The running IPython kernel shell, or None (a terminal, a script, a plain REPL)."""
    try:
        from IPython.core import getipython
    except ImportError:
        return None
    shell = cast(Any, getipython).get_ipython()
    return shell if shell is not None and getattr(shell, "kernel", None) is not None else None


class Progress:
    """The progress of ``total`` measured sessions, after ``warmups`` untimed ones."""

    def __init__(
        self, total: int, *, warmups: int = 0, enabled: bool = True, clock: Clock = monotonic
    ) -> None:
        self.total = total
        self.warmups = warmups
        self.done = 0
        self.failed: list[str] = []
        self.enabled = enabled
        self.phase = "warming up" if warmups else "running"
        self._clock = clock
        self._t0 = clock()
        self._note = ""
        self._handle: Any = None
        self._bar: Any = None
        self._closed = False

    # --- what the line says -------------------------------------------------------

    def text(self) -> str:
        elapsed = f"{self._clock() - self._t0:.0f} s"
        if self.phase == "reused":
            return f"sweep: {self._note}"
        warm = f" (+{self.warmups} untimed warm-ups)" if self.warmups else ""
        if self.phase == "warming up":
            return f"sweep: warming up {self.warmups} recognizers, then {self.total} sessions"
        state = "done" if self.phase == "done" else "running"
        line = f"sweep: {self.done}/{self.total} sessions {state}{warm}"
        return f"{line} · {len(self.failed)} failed · {elapsed}"

    def html(self) -> str:
        bar = (
            f"<progress value='{self.done}' max='{max(self.total, 1)}' "
            "style='vertical-align:middle;margin-right:0.5em'></progress>"
            if self.phase in ("running", "done")
            else ""
        )
        lines = "".join(
            f"<div style='color:#b00020'>{html.escape(line)}</div>" for line in self.failed
        )
        return f"<div class='smnb-progress'>{bar}{html.escape(self.text())}{lines}</div>"

    def _bundle(self) -> dict[str, str]:
        plain = "\n".join([self.text(), *self.failed])
        return {"text/plain": plain, "text/html": self.html()}

    # --- updates ----------------------------------------------------------------------

    def start(self) -> Progress:
        if not self.enabled:
            return self
        if _kernel() is not None:
            self._handle = _display(self._bundle())
        else:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc="sweep", unit="session")
        return self

    def running(self) -> None:
        """The warm-ups are over: measured sessions start."""
        self.phase = "running"
        self._show()

    def update(self, session_id: str, error: str | None = None) -> None:
        """One measured session ended (``error``: why it failed)."""
        self.done += 1
        if error is not None:
            self.failed.append(f"{session_id} failed: {error}")
        if self._bar is not None:
            self._bar.set_postfix(failed=len(self.failed), refresh=False)
            self._bar.update(1)
            if error is not None:
                self._bar.write(f"smnb sweep: {session_id} failed: {error}", file=sys.stderr)
        self._show()

    def reused(self, note: str) -> None:
        """Nothing was run: the sweep was read back (``note`` says from where); not started."""
        self.phase, self._note = "reused", note
        if not self.enabled:
            return
        if _kernel() is not None:
            self._handle = _display(self._bundle())
        else:  # a terminal: one plain line where the bar would have been
            sys.stderr.write(f"smnb sweep: {note}\n")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.phase == "running":
            self.phase = "done"
        if self._bar is not None:
            self._bar.close()
        self._show()

    def _show(self) -> None:
        if self._handle is not None:
            self._handle.update(self._bundle(), raw=True)
