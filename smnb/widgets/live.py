"""The live transcript view: an ipywidgets box that follows a session's recorder.

:class:`LiveTranscript` subscribes to a :class:`~smnb.recorder.Recorder` (given
directly, or through a ``Result`` or a running ``Transcription``) and shows
finalized text in normal type, the current partial in grey, speaker/channel
labels, and a status line. It never drives a session itself; the ``live()``
entry point in :mod:`smnb.widgets` wires it to ``smnb.start``.

Threading: recorder callbacks run on the session loop's thread; widget button
callbacks may run on a kernel "subshell" thread (JupyterLab >= 4.4 with
ipykernel 7). State and rendering are guarded by one lock, renders are
throttled to ``min_interval`` with a timer on the calling loop, and the stop
button hands the stop request to the session loop with
``loop.call_soon_threadsafe``.

Only widget features present in ipywidgets 7.6+ are used (HTML, Button,
VBox/HBox, Layout), so the same code runs in JupyterLab 4 and in Colab.

Must not import: smnb.session, websockets (see docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import html
import logging
import threading
import time
from collections.abc import Callable, Generator
from typing import Any, cast

import ipywidgets

from smnb.clock import Clock
from smnb.recorder import Record, Recorder
from smnb.widgets.focus import FocusGuard
from smnb.widgets.outputs import Outputs, descendants, register, widget_view
from smnb.widgets.state import (
    TranscriptState,
    render_snapshot_html,
    render_status_html,
    render_transcript_html,
    snapshot_text,
    status_text,
)

logger = logging.getLogger(__name__)


def find_recorder(target: Any) -> Recorder:
    """The recorder behind a Recorder, a Result or a Transcription handle."""
    for candidate in (target, getattr(target, "result", None)):
        if isinstance(candidate, Recorder):
            return candidate
        recorder = getattr(candidate, "recorder", None)
        if isinstance(recorder, Recorder):
            return recorder
    raise TypeError(
        f"cannot follow {type(target).__name__}: pass a Recorder, a Result or a Transcription"
    )


class LiveTranscript:
    """A live view of one session.

    Args:
        target: a ``Recorder``, a ``Result`` or a ``Transcription``; ``None`` to
            attach later with :meth:`attach`.
        min_interval: at most one render per this many seconds while records
            stream in (the end of the session always renders at once).
        max_chars: the transcript keeps only the newest characters beyond this.
        stop: called (on the session loop) when the stop button is clicked;
            ``None`` hides the button.
        controls: an extra widget shown above the transcript (e.g. the browser mic).
        hint: appended to the status line while no audio has been sent.
        title: shown in bold above the transcript.
        clock: monotonic seconds, for the throttle (tests pass a ManualClock).
    """

    def __init__(
        self,
        target: Any = None,
        *,
        min_interval: float = 0.2,
        max_chars: int = 20_000,
        stop: Callable[[], object] | None = None,
        controls: Any = None,
        hint: str | None = None,
        title: str | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.state = TranscriptState()
        self.min_interval = min_interval
        self.max_chars = max_chars
        self.hint = hint
        self.name = title or ""
        self.transcription: Any = None
        self.recorder: Recorder | None = None
        self.renders = 0
        self._clock = clock
        self._lock = threading.RLock()
        self._dirty = False
        self._last_render = float("-inf")
        self._flush_handle: asyncio.TimerHandle | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._stop_fn = stop
        self._stop_requested = False
        self._shown_in: int | None = None
        self._outputs = Outputs()
        # The loop that runs the session (the kernel's loop in a notebook); button
        # callbacks may arrive on another thread and are handed over to it.
        self._loop: asyncio.AbstractEventLoop | None = _running_loop()

        self.title = ipywidgets.HTML(value=f"<b>{html.escape(title)}</b>" if title else "")
        self.transcript = ipywidgets.HTML(
            value=render_transcript_html(self.state),
            layout=ipywidgets.Layout(max_height="320px", overflow="auto", width="100%"),
        )
        self.status = ipywidgets.HTML(value=render_status_html(self.state, hint=hint))
        self.stop_button = ipywidgets.Button(
            description="Stop",
            icon="stop",
            button_style="warning",
            tooltip="End the audio stream (EndOfStream) and wait for the last finals",
            layout=ipywidgets.Layout(width="auto", display="" if stop else "none"),
        )
        self.stop_button.on_click(self._on_stop_click)
        self.controls = controls
        children = [self.title, *([controls] if controls is not None else [])]
        row = [self.stop_button, self.status, FocusGuard()]
        children += [self.transcript, ipywidgets.HBox(row)]
        self.widget = ipywidgets.VBox(children, layout=ipywidgets.Layout(width="100%"))
        self.widget.add_class("smnb-live")
        if target is not None:
            self.attach(target)

    # --- wiring ---------------------------------------------------------------

    def attach(self, target: Any) -> LiveTranscript:
        """Follow ``target``'s recorder: records so far are shown, then every new one."""
        recorder = find_recorder(target)
        if getattr(target, "result", None) is not None and not isinstance(target, Recorder):
            self.transcription = target
        with self._lock:
            if self._unsubscribe is not None:
                self._unsubscribe()
            self.state = TranscriptState()
            self.recorder = recorder
            # Subscribe before taking the snapshot so nothing falls between the two;
            # the index check in _on_record drops what the snapshot already holds.
            self._unsubscribe = recorder.subscribe(self._on_record)
            for record in recorder.snapshot():
                self.state.apply(record)
            self._render(force=True)
            if self.state.finished:
                self._ended()
        return self

    def detach(self) -> None:
        """Stop following the recorder (the view keeps what it shows)."""
        with self._lock:
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None
            self._cancel_flush()

    def _on_record(self, record: Record) -> None:
        with self._lock:
            if record.i <= self.state.last_i:
                return  # already folded in from the snapshot
            ended = self.state.apply(record)
            self._dirty = True
            if ended:
                self._render(force=True)
                self._ended()
                return
            wait = self.min_interval - (self._clock() - self._last_render)
            if wait <= 0:
                self._render()
            elif self._flush_handle is None:
                loop = _running_loop()
                if loop is not None:  # without a loop the next record (or refresh) renders
                    self._flush_handle = loop.call_later(wait, self._flush)

    def _flush(self) -> None:
        with self._lock:
            self._flush_handle = None
            if self._dirty:
                self._render()

    def _cancel_flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None

    def _render(self, *, force: bool = False) -> None:
        self._cancel_flush()
        transcript = render_transcript_html(self.state, max_chars=self.max_chars)
        status = render_status_html(self.state, hint=self.hint)
        # Only changed values go over the comm.
        if force or transcript != self.transcript.value:
            self.transcript.value = transcript
        if force or status != self.status.value:
            self.status.value = status
        self._dirty = False
        self._last_render = self._clock()
        self.renders += 1

    def _ended(self) -> None:
        """The session is over: nothing left to stop; outputs get their final snapshot."""
        self.stop_button.disabled = True
        self.stop_button.button_style = ""
        self.stop_button.description = "Stop"
        self.stop_button.tooltip = "The session has ended"
        self._update_outputs()
        self._outputs.print_final(self.snapshot_text())  # a plain script: the result, once

    def refresh(self) -> None:
        """Render now, resend every widget's state and rewrite the outputs' snapshot.

        On ipykernel 7, nbclient only saves widget updates made while the
        *current* cell runs; calling this from a final cell makes a headless run
        store what the view shows (in the widget state and in the static fallback).
        """
        with self._lock:
            self._render(force=True)
        for w in descendants(self.widget):
            w.send_state()
        self._update_outputs()

    # --- stopping -------------------------------------------------------------

    def _on_stop_click(self, _button: Any) -> None:
        # May run on a subshell thread: never touch the session from here.
        self.request_stop()

    def request_stop(self) -> None:
        """Ask the session to end its stream gracefully (thread-safe)."""
        if self._stop_fn is None or self._stop_requested:
            return
        self._stop_requested = True
        self._disable_stop("stopping…")
        loop = self._loop
        if loop is not None and not loop.is_closed():
            if _running_loop() is loop:
                self._call_stop()
            else:
                loop.call_soon_threadsafe(self._call_stop)
        else:
            self._call_stop()

    def _call_stop(self) -> None:
        assert self._stop_fn is not None
        try:
            self._stop_fn()
        except Exception:  # a failed stop must not kill the callback thread silently
            logger.exception("stopping the session failed")

    def _disable_stop(self, label: str) -> None:
        if self.stop_button.layout.display != "none" and not self.stop_button.disabled:
            self.stop_button.disabled = True
            self.stop_button.description = label

    def stop(self) -> None:
        """Stop the session (like the stop button)."""
        self.request_stop()

    # --- access ---------------------------------------------------------------

    @property
    def result(self) -> Any:
        """The live ``Result`` (tables grow while the session runs)."""
        if self.transcription is None:
            raise AttributeError("this view follows a recorder, not a transcription")
        return self.transcription.result

    @property
    def status_text(self) -> str:
        """The status line as plain text."""
        with self._lock:
            return status_text(self.state, hint=self.hint)

    @property
    def final_text(self) -> str:
        """The finalized text shown so far, labelled like ``Result.text`` (see TranscriptState)."""
        with self._lock:
            return self.state.final_text()

    @property
    def partial_text(self) -> str:
        """The partial currently shown."""
        with self._lock:
            return self.state.partial_text()

    def __await__(self) -> Generator[Any, None, Any]:
        """``await view``: wait for the session and return its Result."""
        if self.transcription is None:
            raise TypeError("this view follows a recorder, not a transcription")
        return cast(Generator[Any, None, Any], self.transcription.__await__())

    # --- display ----------------------------------------------------------------

    def snapshot_text(self) -> str:
        """What the view shows, as plain text (the fallback of text-only front ends)."""
        with self._lock:
            return snapshot_text(self.state, title=self.name, hint=self.hint)

    def snapshot_html(self) -> str:
        """What the view shows, as static HTML (GitHub, nbviewer, untrusted notebooks)."""
        with self._lock:
            return render_snapshot_html(self.state, title=self.name, hint=self.hint)

    def _repr_mimebundle_(self, **_kwargs: Any) -> dict[str, Any]:
        """The widget for live front ends, and beside it a snapshot for everything else."""
        return {
            **widget_view(self.widget),
            "text/plain": self.snapshot_text(),
            "text/html": self.snapshot_html(),
        }

    def display(self) -> LiveTranscript:
        """Show the view in the current output area (and count it in :func:`live_views`)."""
        self._shown_in = _execution_count()
        self._outputs.show(self._repr_mimebundle_())
        register(self)
        if self.state.finished:  # shown after its session ended (a plain script prints it now)
            self._outputs.print_final(self.snapshot_text())
        return self

    def _update_outputs(self) -> None:
        """Rewrite every output showing this view, so saved copies keep the last state."""
        if self._outputs:
            self._outputs.update(self._repr_mimebundle_())

    def _ipython_display_(self) -> None:
        # live() already displayed the view in this cell: a trailing expression
        # `smnb.live(...)` must not show a second copy.
        if self._shown_in is not None and self._shown_in == _execution_count():
            return
        self.display()

    def __repr__(self) -> str:
        return f"<LiveTranscript {self.status_text}>"


def _execution_count() -> int | None:
    try:
        from IPython.core import getipython
    except ImportError:
        return None
    shell = cast(Any, getipython).get_ipython()
    return None if shell is None else int(shell.execution_count)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
