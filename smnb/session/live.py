"""``smnb.live``: start a session in the background and show it in a live widget.

This is the one place where the notebook widgets meet the session API; the
widgets themselves (:mod:`smnb.widgets`) only follow a recorder::

    view = smnb.live("speech.wav", enable_partials=True)   # the cell returns at once
    view.result.words                                      # grows while it runs
    result = await view                                    # the final Result

    view = smnb.live(smnb.BrowserMic())                    # Colab / Binder: the browser mic
    view = smnb.live(smnb.Microphone())                    # the kernel machine's microphone
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any, Literal

from smnb.audio import DEFAULT_CHUNK_SECONDS, DEFAULT_MAX_UNACKED, Pace
from smnb.auth import ApiKey
from smnb.clock import Clock
from smnb.session.options import DEFAULT_TIMEOUT, SessionOptions
from smnb.session.start import start
from smnb.widgets import BrowserMic, BrowserMicSource, LiveTranscript

__all__ = ["live"]

BROWSER_MIC_HINT = "click ▶ Start microphone above"


def live(
    source: Any,
    *,
    display: bool = True,
    title: str | None = None,
    min_interval: float = 0.2,
    options: SessionOptions | None = None,
    language: str = "en",
    enable_partials: bool = True,
    max_delay: float | None = None,
    max_delay_mode: Literal["fixed", "flexible"] | None = None,
    diarization: Literal["none", "speaker", "channel", "channel_and_speaker"] | None = None,
    speaker_diarization_config: Mapping[str, Any] | None = None,
    channel_diarization_labels: Sequence[str] | None = None,
    conversation_config: Mapping[str, Any] | None = None,
    additional_vocab: Sequence[str | Mapping[str, Any]] | None = None,
    model: str | None = None,
    operating_point: str | None = None,
    domain: str | None = None,
    language_hints: Sequence[str] | None = None,
    output_locale: str | None = None,
    enable_entities: bool | None = None,
    punctuation_overrides: Mapping[str, Any] | None = None,
    audio_filtering_config: Mapping[str, Any] | None = None,
    transcript_filtering_config: Mapping[str, Any] | None = None,
    streaming_mode: bool | None = None,
    ctrl: Mapping[str, Any] | None = None,
    translation_config: Mapping[str, Any] | None = None,
    audio_events_config: Mapping[str, Any] | None = None,
    url: str | None = None,
    api_key: str | ApiKey | None = None,
    temp_key: bool | int = False,
    pace: Pace = "realtime",
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    out: str | PathLike[str] | None = None,
    clock: Clock | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_unacked: int = DEFAULT_MAX_UNACKED,
    audio_format: Literal["raw", "file"] = "raw",
    sample_rate: int | None = None,
    encoding: Literal["pcm_s16le", "pcm_f32le", "mulaw"] = "pcm_s16le",
    live: bool = False,
    reconnect: bool | int = True,
) -> LiveTranscript:
    """Transcribe ``source`` in the background and show it live; returns the view at once.

    Args:
        source: anything ``smnb.start`` accepts (a path, an array, an AudioSource),
            a :class:`BrowserMic` widget (shown above the transcript), or a
            :class:`~smnb.audio.mic.Microphone`.
        display: show the view in the cell's output now.
        title: a heading above the transcript (default: the source's name).
        min_interval: the fastest the view re-renders while messages stream in.
        options, language, enable_partials, …: the keyword-only settings of
            :func:`smnb.transcribe` (same names, defaults and meaning).

    The stop button ends the audio gracefully (EndOfStream, then every final
    still arrives), for a microphone or a file alike. In a notebook cell the
    session runs on the kernel's event loop; elsewhere ``smnb.start`` gives it a
    private loop thread, and the view follows it all the same.
    """
    keywords = dict(locals())  # exactly the parameters: nothing is assigned before this
    for name in ("source", "display", "title", "min_interval", "options"):
        del keywords[name]
    controls = None
    hint = None
    if isinstance(source, BrowserMic):
        source = source.source()
    if isinstance(source, BrowserMicSource):
        controls, hint = source.mic, BROWSER_MIC_HINT
    if title is None:
        title = _title_of(source)
    transcription = start(source, options=options, **keywords)
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
