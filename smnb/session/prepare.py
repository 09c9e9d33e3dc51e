"""One session, prepared: settings checked, audio opened, recorder and live result made.

:func:`prepare` does everything that can fail because of the input, before any
connection; :meth:`PreparedSession.run` then hands the transport
(:class:`~smnb.session.transport.SessionRunner`) an endpoint to open — the
embedded local server when there is no ``url`` (nor ``SPEECHMATICS_RT_URL``) and no API
key; else that endpoint (the SaaS by default) with ``Authorization: Bearer`` when there is
a key (optionally a temporary key) — and
finishes the ``out`` files. The embedded server is the process's shared one
(:mod:`smnb.session.embedded`). The runner owns the session's one outcome; this layer
only copies it onto the :class:`~smnb.result.Result`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from smnb.audio import AudioSource, open_source
from smnb.auth import auth_headers, mint_temp_key, rt_url
from smnb.exceptions import ConfigError, SessionCancelled, SmnbError
from smnb.protocol import messages as m
from smnb.protocol.config import validate_audio_format
from smnb.protocol.messages import Message
from smnb.recorder import LOG_NAME, JsonlWriter, Recorder
from smnb.result import Result
from smnb.session.options import SessionOptions
from smnb.session.transport import SessionRunner

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

__all__ = ["PreparedSession", "prepare"]


def prepare(
    source: Any, options: SessionOptions | None = None, /, **settings: Any
) -> PreparedSession:
    """Check settings, open the audio and create the recorder: everything but connecting.

    ``options`` (already checked) and/or ``settings`` (keywords of
    :func:`smnb.transcribe`, which override ``options``).

    Raises:
        ConfigError, AudioError, AuthError: the problem, in one line.
    """
    if options is None:
        options = SessionOptions.create(settings)
    elif settings:
        options = options.replace(**settings)
    transcription = dict(options.transcription_config)
    per_channel = options.per_channel
    labels = transcription.get("channel_diarization_labels")
    audio = open_source(
        source,
        audio_format=options.audio_format,
        sample_rate=options.sample_rate,
        encoding=options.encoding,
        chunk_seconds=options.chunk_seconds,
        per_channel=per_channel,
        channel_labels=labels,
        live=options.live,
    )
    channels = getattr(audio, "channels", None)
    if channels and not per_channel:
        raise ConfigError(
            "a multichannel source needs diarization='channel' or 'channel_and_speaker'"
        )
    if per_channel and not channels:
        raise ConfigError(
            f"diarization={transcription['diarization']!r} needs a source with 2 or more channels"
        )
    if channels and labels is None:
        transcription["channel_diarization_labels"] = [str(c) for c in channels]
    start_message = m.start_recognition(
        transcription,
        validate_audio_format(audio.audio_format),
        translation_config=options.translation_config,
        audio_events_config=options.audio_events_config,
    )
    return PreparedSession(audio, start_message, options)


class PreparedSession:
    """One checked session: source, ``StartRecognition``, recorder, live result, runner."""

    def __init__(
        self, source: AudioSource, start_message: Message, options: SessionOptions
    ) -> None:
        self.source = source
        self.start_message = start_message
        self.options = options
        self.recorder = Recorder(options.clock)
        self.writer: JsonlWriter | None = None
        if options.out is not None:
            try:
                self.writer = JsonlWriter(options.out / LOG_NAME)
            except OSError as exc:
                raise ConfigError(f"out: cannot write in {options.out} ({exc.strerror})") from exc
            self.recorder.subscribe(self.writer)
        self.result = Result(
            self.recorder,
            source=str(getattr(source, "name", type(source).__name__)),
            start=start_message,
            jsonl_path=self.writer.path if self.writer else None,
        )
        self.runner = SessionRunner(
            options.url,
            source,
            start_message,
            self.recorder,
            pace=options.pace,
            max_unacked=options.max_unacked,
            timeout=options.timeout,
            result=self.result,
            reconnect=options.reconnect,
        )
        self._ran = False

    def request_stop(self) -> None:
        """End the audio gracefully (on the session's loop): EndOfStream, then every final."""
        self.runner.request_stop()

    async def run(self) -> Result:
        """Connect, stream, and finish the outputs; returns the result or raises with it."""
        if self._ran:
            raise RuntimeError("a prepared session runs once; prepare() another")
        self._ran = True
        try:
            await self.runner.run(self._endpoint)
        except asyncio.CancelledError as exc:
            # smnb's boundary: a cancelled session is an error carrying its result.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            outcome = self.runner.outcome
            error = (
                outcome
                if isinstance(outcome, SessionCancelled)
                else SessionCancelled("the session was cancelled", result=self.result)
            )
            await self._finish(error)
            raise error from exc
        except BaseException as exc:
            if isinstance(exc, SmnbError) and getattr(exc, "result", None) is None:
                exc.result = self.result  # type: ignore[attr-defined]
            await self._finish(exc)
            raise
        await self._finish(None)
        return self.result

    @contextlib.asynccontextmanager
    async def _endpoint(self) -> AsyncIterator[tuple[str, Mapping[str, str], Mapping[str, Any]]]:
        opts = self.options
        if opts.embedded:
            # One server per process, started by the first session that needs it.
            from smnb.session import embedded

            yield await embedded.aurl(), {}, {"embedded_server": True, "authenticated": False}
            return
        key = opts.api_key
        if key is not None and opts.temp_key_ttl is not None:
            key = await asyncio.to_thread(mint_temp_key, key, ttl=opts.temp_key_ttl)
            self.runner.renew_headers = self._fresh_temp_key  # it may expire before a drop
        headers = auth_headers(key)
        note = {"embedded_server": False, "authenticated": bool(headers)}
        yield opts.url or rt_url(), headers, note

    async def _fresh_temp_key(self) -> Mapping[str, str]:
        opts = self.options
        assert opts.api_key is not None and opts.temp_key_ttl is not None
        key = await asyncio.to_thread(mint_temp_key, opts.api_key, ttl=opts.temp_key_ttl)
        return auth_headers(key)

    async def _finish(self, error: BaseException | None) -> None:
        # The runner recorded the outcome; the live Result holds the same exception.
        if error is not None:
            self.result.error = error
        self.result.live = False
        if self.writer is None:
            return
        try:
            await asyncio.to_thread(self.result.to_csv, self.writer.path.parent)
        except Exception:  # the log is on disk already; tables can be rebuilt from it
            logger.exception("could not write the tables to %s", self.writer.path.parent)
        finally:
            await asyncio.to_thread(self.writer.close)  # waits for a slow disk off the loop
