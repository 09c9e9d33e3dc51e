"""``smnb.live``: start a session in the background and show it in a live widget.

This is the one place where the notebook widgets meet the session API; the
widgets themselves (:mod:`smnb.widgets`) only follow a recorder::

    view = smnb.live("speech.wav", enable_partials=True)   # the cell returns at once
    view.result.words                                      # grows while it runs
    result = await view                                    # the final Result

    view = smnb.live(smnb.widgets.BrowserMic())            # Colab / Binder: the browser mic
    view = smnb.live(smnb.mic.Microphone())                # the kernel machine's microphone
"""

from __future__ import annotations

from typing import Any

from smnb.api import start
from smnb.widgets import BrowserMic, BrowserMicSource, LiveTranscript

__all__ = ["live"]

BROWSER_MIC_HINT = "click ▶ Start microphone above"


def live(
    source: Any,
    *,
    display: bool = True,
    title: str | None = None,
    min_interval: float = 0.2,
    **config: Any,
) -> LiveTranscript:
    """Transcribe ``source`` in the background and show it live; returns the view at once.

    Args:
        source: anything ``smnb.start`` accepts (a path, an array, an AudioSource),
            a :class:`BrowserMic` widget (shown above the transcript), or a
            :class:`~smnb.mic.Microphone`.
        display: show the view in the cell's output now.
        title: a heading above the transcript (default: the source's name).
        min_interval: the fastest the view re-renders while messages stream in.
        **config: passed to ``smnb.start`` (``enable_partials``, ``language``,
            ``diarization``, ``url``, ``api_key``, ``pace``, …).

    The stop button ends the audio gracefully (EndOfStream, then every final
    still arrives), for a microphone or a file alike. In a notebook cell the
    session runs on the kernel's event loop; elsewhere ``smnb.start`` gives it a
    private loop thread, and the view follows it all the same.
    """
    controls = None
    hint = None
    if isinstance(source, BrowserMic):
        source = source.source()
    if isinstance(source, BrowserMicSource):
        controls, hint = source.mic, BROWSER_MIC_HINT
    if title is None:
        title = _title_of(source)
    transcription = start(source, **config)
    # Transcription.stop is graceful and thread-safe: it asks the session loop to
    # stop the source, then EndOfStream, then every final.
    view = LiveTranscript(
        transcription,
        title=title,
        controls=controls,
        hint=hint,
        min_interval=min_interval,
        stop=transcription.stop,
    )
    if display:
        view.display()
    return view


def _title_of(source: Any) -> str:
    name = getattr(source, "name", None)
    if isinstance(name, str) and name:
        return name
    if isinstance(source, str) or hasattr(source, "__fspath__"):
        return str(source).rsplit("/", 1)[-1]
    return type(source).__name__
