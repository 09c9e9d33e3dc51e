"""The browser's microphone as an audio source: an anywidget plus its AudioSource.

In Colab and Binder the kernel runs on a remote machine, so the only microphone
is the one in the user's browser. :class:`BrowserMic` is an anywidget (front
end in ``browser_mic.js``) that captures it with an AudioWorklet and sends
16 kHz mono int16 chunks (100 ms) to the kernel as binary comm messages.
:class:`BrowserMicSource` turns those messages into the AudioSource contract of
docs/architecture.md (``live=True``), so the session API streams it like any
other source.

Threading: comm handlers run on a kernel "subshell" thread under JupyterLab
>= 4.4 with ipykernel 7 (on the main thread elsewhere). The handler feeds each
chunk to :class:`~smnb.audio.live.LiveSource` (the same hand-over as the local
microphone), which schedules it on the session loop; chunks arriving before the
session starts are kept and delivered first.

Must not import: smnb.session, websockets.
"""

from __future__ import annotations

import asyncio
import html
import logging
import threading
import uuid
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from smnb.audio.live import LiveSource
from smnb.clock import Clock, monotonic
from smnb.widgets.focus import KEEP_FOCUS_JS

logger = logging.getLogger(__name__)

_HERE = Path(__file__).parent

NO_AUDIO_MESSAGE = (
    "No audio from the browser microphone yet. Click ▶ Start microphone and allow access. "
    "A headless run (nbclient, nbconvert, CI) has no browser, so no audio arrives there; "
    "the rest of the notebook still runs."
)


class BrowserMic(anywidget.AnyWidget):
    """A ▶ Start / ■ Stop microphone button that streams to the kernel.

    Display it (or pass it to ``smnb.live``), click Start, speak, click Stop.
    Counters (``chunks_received``, ``seconds_received``, ``gaps``) are updated
    as audio arrives and can be read from any thread.
    """

    # Read at import (not a Path) so the widget works on anywidget 0.9 everywhere; the
    # keep-focus listener comes first (see smnb.widgets.focus).
    _esm = KEEP_FOCUS_JS + (_HERE / "browser_mic.js").read_text(encoding="utf-8")
    _css = (_HERE / "browser_mic.css").read_text(encoding="utf-8")

    sample_rate = traitlets.Int(16_000).tag(sync=True)
    chunk_ms = traitlets.Int(100).tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)  # kernel-side explanations, shown under
    key = traitlets.Unicode().tag(sync=True)
    """This widget's id in the page: a capture outlives a re-render of its view (the JS keys
    its running capture by it, not by the view's model object)."""
    ended = traitlets.Bool(False).tag(sync=True)
    """True once the session this microphone fed has ended: ▶ Start is disabled (a new
    session needs the cell run again), in the page and in a saved notebook alike."""

    def __init__(self, *, sample_rate: int = 16_000, chunk_ms: int = 100, **kwargs: Any) -> None:
        kwargs.setdefault("key", uuid.uuid4().hex)
        super().__init__(sample_rate=sample_rate, chunk_ms=chunk_ms, **kwargs)
        self._lock = threading.Lock()
        self._source: BrowserMicSource | None = None  # the session being fed, if any
        self.rendered = False
        self.recording = False
        self.native_rate: int | None = None
        self.chunks_received = 0
        self.samples_received = 0
        self.gaps = 0
        self.dropped = 0
        self.error: str | None = None
        self._next_seq = 0
        self.on_msg(self._on_custom)

    @property
    def seconds_received(self) -> float:
        """Audio seconds received from the browser so far."""
        return self.samples_received / self.sample_rate

    # --- front end → kernel (any thread) --------------------------------------

    def _on_custom(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = str(content.get("type", ""))
        data = bytes(buffers[0]) if kind == "audio" and buffers else None
        with self._lock:
            self.rendered = True
            if kind == "started":
                self.recording = True
                self.native_rate = int(content.get("native_rate") or 0) or None
                self.error = None
            elif kind == "stopped":
                self.recording = False
            elif kind == "error":
                self.recording = False
                self.error = str(content.get("message", "error"))
            elif data is not None:
                seq = int(content.get("seq", self._next_seq))
                self.gaps += max(0, seq - self._next_seq)
                self._next_seq = seq + 1
                self.chunks_received += 1
                self.samples_received += len(data) // 2
            source = self._source
            if kind == "audio" and data is not None and source is None:
                self.dropped += 1
        if source is not None:
            source._deliver(kind, content, data)
        if kind == "started":
            self.message = ""

    # --- kernel → front end -----------------------------------------------------

    def start(self) -> None:
        """Ask the front end to start capturing (browsers may require a click instead)."""
        self.send({"cmd": "start"})

    def stop(self) -> None:
        """Ask the front end to stop capturing; it flushes its last samples first."""
        self.send({"cmd": "stop"})

    def source(self, **kwargs: Any) -> BrowserMicSource:
        """An AudioSource fed by this widget (see :class:`BrowserMicSource`)."""
        return BrowserMicSource(self, **kwargs)

    async def wait_for_audio(self, timeout: float = 10.0) -> bool:
        """True as soon as audio has arrived; False after ``timeout`` seconds without.

        On ipykernel 6 (Colab) comm messages wait until the running cell ends,
        so call this in a cell run *after* clicking Start: audio already
        received counts at once. When it returns False the widget shows why.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.chunks_received == 0 and loop.time() < deadline:
            await asyncio.sleep(0.1)
        if self.chunks_received == 0:
            self.message = NO_AUDIO_MESSAGE if self.error is None else f"error: {self.error}"
            return False
        return True

    def _attach(self, source: BrowserMicSource) -> None:
        """Feed ``source`` from now on; a previous source (a re-run cell) ends gracefully."""
        with self._lock:
            old, self._source = self._source, source
        self.ended = False
        if old is not None and old is not source:
            old.end_soon(0.0)

    # --- renderings without a front end --------------------------------------------

    def status_text(self) -> str:
        """What the widget says, in words (for static renderings and reprs)."""
        if self.ended:
            state = "session ended"
        elif self.recording:
            state = f"recording ({self.seconds_received:.1f} s received)"
        else:
            state = "idle: click ▶ Start microphone"
        line = f"Browser microphone · {state}"
        return f"{line} · {self.message}" if self.message else line

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget, and a text/HTML line for renderings without widgets."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle or {}, {})
        text = self.status_text()
        note = "(the microphone needs a running kernel and a browser)"
        data = {
            **data,
            "text/plain": text,
            "text/html": f"<div class='smnb-mic-snapshot'>{html.escape(text)} "
            f"<span style='color:#777'>{note}</span></div>",
        }
        return (data, meta) if isinstance(bundle, tuple) else data

    def _detach(self, source: BrowserMicSource) -> None:
        with self._lock:
            if self._source is source:
                self._source = None


class BrowserMicSource(LiveSource):
    """The AudioSource of a :class:`BrowserMic`: 16 kHz mono ``pcm_s16le``, live.

    Args:
        mic: the widget that delivers the audio.
        no_audio_timeout: end the stream when no audio has arrived this many
            seconds after streaming began (``None``: wait for the user's click however
            long it takes; the service ends a session after an hour without audio).
        stop_grace: after :meth:`stop`, how long to wait for the browser's last
            samples before ending the stream anyway.
        clock: monotonic seconds for ``Chunk.captured_t``.
    """

    def __init__(
        self,
        mic: BrowserMic,
        *,
        no_audio_timeout: float | None = None,
        stop_grace: float = 2.0,
        clock: Clock = monotonic,
    ) -> None:
        super().__init__(
            sample_rate=int(mic.sample_rate),
            chunk_seconds=mic.chunk_ms / 1000,
            name="browser microphone",
            clock=clock,
        )
        self.mic = mic
        self.no_audio_timeout = no_audio_timeout
        self.stop_grace = stop_grace
        self._timer: asyncio.TimerHandle | None = None
        mic._attach(self)

    # --- called from the widget's comm handler (any thread) ---------------------

    def _deliver(self, kind: str, content: dict[str, Any], data: bytes | None) -> None:
        if kind == "audio" and data:
            self.feed(data)
        elif kind in ("stopped", "error"):
            self.finish()

    # --- around LiveSource.chunks(): the no-audio timer, the widget's state -----

    def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.no_audio_timeout is not None:
            self._timer = loop.call_later(self.no_audio_timeout, self._no_audio)

    def _close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.mic._detach(self)
        if self.mic._source is not None:
            return  # the widget already feeds a newer session
        if self.mic.recording:
            self.mic.stop()
        self.mic.ended = True
        if self.chunks_delivered:
            self.mic.message = "This session has ended; run the cell again to record more."
        elif not self.mic.message:  # keep an explanation already shown (no audio, headless)
            self.mic.message = "This session ended before any audio arrived; run the cell again."

    def _no_audio(self) -> None:
        if not self.chunks_delivered:
            self.mic.message = NO_AUDIO_MESSAGE
            self.end_now()

    def stop(self) -> None:
        """End the stream gracefully (thread-safe): the browser flushes, then EndOfStream."""
        if self.started and self.mic.recording:
            self.mic.stop()  # the browser sends its last samples, then "stopped" ends us
            self.end_soon(self.stop_grace)
        else:
            self.end_soon(0.0)

    def __repr__(self) -> str:
        return f"<BrowserMicSource {self.sample_rate} Hz, {self.mic.seconds_received:.1f} s>"
