"""The blocking and awaitable entry points: :func:`transcribe` and :func:`atranscribe`.

Both take the same explicit keyword-only settings (checked once into a
:class:`~smnb.session.options.SessionOptions`), prepare the session
(:mod:`smnb.session.prepare`) and run it; they differ only in *where* it runs:

- ``await atranscribe(...)`` in async code and notebook cells;
- ``transcribe(...)`` anywhere: with no event loop in the thread it runs one;
  inside a running loop (a Jupyter cell) it runs the session on a private
  event-loop thread and blocks on it (:mod:`smnb.session.sync`).

Any error (server ``Error``, lost connection, timeout, Ctrl-C or cancel) is
recorded first and raised as a :class:`~smnb.exceptions.SmnbError` whose
``.result`` holds everything received; with ``out`` the log is already on disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any, Literal

from smnb.audio import DEFAULT_CHUNK_SECONDS, DEFAULT_MAX_UNACKED, Pace
from smnb.auth import ApiKey
from smnb.clock import Clock
from smnb.result import Result
from smnb.session.options import DEFAULT_TIMEOUT, SessionOptions, options_from_keywords
from smnb.session.prepare import PreparedSession, prepare
from smnb.session.sync import run_sync

__all__ = ["atranscribe", "prepare", "run_blocking", "transcribe"]


def transcribe(
    source: Any,
    *,
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
) -> Result:
    """Stream ``source`` and return the finished :class:`~smnb.result.Result` (blocking).

    Works in a plain script and inside a running event loop (a Jupyter cell),
    where it runs the session on a private event-loop thread.

    Args:
        source: a path to an audio file, a numpy array (with ``sample_rate``),
            an async iterable of raw bytes (with ``sample_rate``) or an audio
            source such as :class:`smnb.Microphone`.
        options: settings checked earlier (:class:`smnb.SessionOptions`); any
            keyword below that differs from its default overrides them.

        -- transcription_config fields (protocol names, checked before connecting) --
        language: language code.
        enable_partials: request ``AddPartialTranscript`` messages.
        max_delay: seconds (0.7–4) the server may wait before a final; server default if None.
        max_delay_mode: ``"fixed"`` or ``"flexible"`` (may exceed max_delay for entities).
        diarization: ``"none"``, ``"speaker"``, or per channel ``"channel"`` /
            ``"channel_and_speaker"`` (each channel of the source is sent separately).
        speaker_diarization_config: e.g. ``{"max_speakers": 2}``.
        channel_diarization_labels: labels of the source's channels.
        conversation_config: e.g. ``{"end_of_utterance_silence_trigger": 0.5}``.
        additional_vocab: words (or ``{"content", "sounds_like"}`` dicts) to add.
        model, operating_point: ``"standard"`` or ``"enhanced"`` (one of the two).
        domain, language_hints, output_locale, enable_entities, punctuation_overrides,
            audio_filtering_config, transcript_filtering_config, streaming_mode, ctrl:
            the spec's fields of the same names.
        translation_config, audio_events_config: sent beside ``transcription_config``.

        -- smnb's options --
        url: ``ws://``/``wss://`` endpoint; default ``SPEECHMATICS_RT_URL`` (key or not),
            else the SaaS with a key. With none of them, the session runs on smnb's
            embedded local server (one per process, started on first use, shared by
            every later session, stopped at exit).
        api_key: the key; default ``SPEECHMATICS_API_KEY`` (or the Colab secret).
            Sent only as ``Authorization: Bearer``, never shown or written.
        temp_key: exchange the key for a temporary one first (True: 60 s, or a TTL).
        pace: ``"realtime"`` (sends like a live microphone; latency is meaningful) or
            ``"fast"`` (as fast as the server acknowledges).
        chunk_seconds: audio per frame (0.005–10).
        out: a directory: ``messages.jsonl`` as messages arrive, tables at the end.
        clock: monotonic seconds for every record time (default :func:`smnb.clock.monotonic`).
        timeout: seconds the server may stay silent while it owes a reply; also the
            connection timeout. ``None`` means no timeout (wait as long as it takes).
        max_unacked: frames that may await ``AudioAdded`` at once.
        audio_format: ``"raw"`` (decoded to 16 kHz pcm_s16le) or ``"file"`` (the
            file's bytes unchanged).
        sample_rate: of a numpy array or a byte stream; encoding: of a byte stream. Given
            with a file path (whose header tells both) they are refused, not ignored.
        live: the source runs at real time by itself (never paced).
        reconnect: after a dropped connection (never a server ``Error``), continue on a
            new one: re-send the audio no final covered yet, keep one audio clock
            (``Result.connections``). ``False`` ends the session instead; a number sets
            the attempts per drop (default 5, the first at once, then 0.5, 1, 2, 4 s).

    Raises:
        ConfigError, AudioError: bad settings or audio, before connecting.
        ServerError, ConnectionLost, SessionTimeout, SessionCancelled, AuthError:
            the session failed; ``exc.result`` holds what was received.
    """
    keywords = dict(locals())  # exactly the parameters: nothing is assigned before this
    del keywords["source"], keywords["options"]
    return run_blocking(prepare(source, options_from_keywords(options, keywords)))


async def atranscribe(
    source: Any,
    *,
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
) -> Result:
    """Like :func:`transcribe` (same keyword-only settings), for ``await`` in async code.

    Cancelling the awaiting task (a notebook interrupt) ends the session and
    raises :class:`~smnb.exceptions.SessionCancelled` carrying the partial result.
    """
    keywords = dict(locals())  # exactly the parameters: nothing is assigned before this
    del keywords["source"], keywords["options"]
    return await prepare(source, options_from_keywords(options, keywords)).run()


def run_blocking(session: PreparedSession) -> Result:
    """Run a prepared session to the end from synchronous code (Ctrl-C → SessionCancelled)."""
    return run_sync(session.run, name="smnb-session")
