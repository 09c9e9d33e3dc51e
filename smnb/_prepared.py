"""One session, prepared: settings checked, audio opened, recorder and live result made.

:func:`prepare` does everything that can fail because of the input, before any
connection; :meth:`PreparedSession.run` then picks the endpoint (the embedded
local server when there is neither a ``url`` nor an API key; the SaaS endpoint
with ``Authorization: Bearer``, optionally a temporary key, when there is a key),
runs :class:`~smnb.client.SessionRunner`, and finishes the ``out`` files.
The public entry points in :mod:`smnb.api` are thin wrappers around it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from smnb._options import CHANNEL_MODES, Options, split_config
from smnb._sanitize import scrub_text
from smnb.audio import AudioSource, open_source
from smnb.auth import auth_headers, mint_temp_key, rt_url
from smnb.client import SessionRunner
from smnb.exceptions import ConfigError, SessionCancelled, SmnbError
from smnb.protocol import messages as m
from smnb.protocol.config import validate_audio_format, validate_transcription_config
from smnb.protocol.messages import Message
from smnb.recorder import META, JsonlWriter, Recorder
from smnb.result import Result

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

__all__ = ["PreparedSession", "prepare"]


def prepare(source: Any, **config: Any) -> PreparedSession:
    """Check settings, open the audio and create the recorder: everything but connecting.

    Raises:
        ConfigError, AudioError, AuthError: the problem, in one line.
    """
    transcription, options = split_config(config)
    per_channel = transcription.get("diarization") in CHANNEL_MODES
    labels = transcription.get("channel_diarization_labels")
    validate_transcription_config(transcription)  # before decoding: a typo fails fast
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
        transcription["channel_diarization_labels"] = list(channels)
    start_message = m.start_recognition(
        validate_transcription_config(transcription),
        validate_audio_format(audio.audio_format),
        translation_config=options.translation_config,
        audio_events_config=options.audio_events_config,
    )
    return PreparedSession(audio, start_message, options)


class PreparedSession:
    """One checked session: source, ``StartRecognition``, recorder and live result."""

    def __init__(self, source: AudioSource, start_message: Message, options: Options) -> None:
        self.source = source
        self.start_message = start_message
        self.options = options
        self.recorder = Recorder(options.clock)
        self.writer: JsonlWriter | None = None
        if options.out is not None:
            try:
                self.writer = JsonlWriter(options.out / "messages.jsonl")
            except OSError as exc:
                raise ConfigError(f"out: cannot write in {options.out} ({exc.strerror})") from exc
            self.recorder.subscribe(self.writer)
        self.result = Result(
            self.recorder,
            source=str(getattr(source, "name", type(source).__name__)),
            start=start_message,
            jsonl_path=self.writer.path if self.writer else None,
        )
        self.runner: SessionRunner | None = None
        self._stop_requested = False
        self._ran = False

    def request_stop(self) -> None:
        """End the audio gracefully (on the session's loop): EndOfStream, then every final."""
        self._stop_requested = True
        if self.runner is not None:
            self.runner.request_stop()
        else:
            self.source.stop()

    async def run(self) -> Result:
        """Connect, stream, and finish the outputs; returns the result or raises with it."""
        if self._ran:
            raise RuntimeError("a prepared session runs once; prepare() another")
        self._ran = True
        try:
            await self._stream()
        except asyncio.CancelledError as exc:
            # smnb's boundary: a cancelled session is an error carrying its result.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            error = SessionCancelled("the session was cancelled", result=self.result)
            await self._finish(error)
            raise error from exc
        except SmnbError as exc:
            if getattr(exc, "result", None) is None:
                exc.result = self.result  # type: ignore[attr-defined]
            await self._finish(exc)
            raise
        except BaseException as exc:
            await self._finish(exc)
            raise
        await self._finish(None)
        return self.result

    async def _stream(self) -> None:
        opts = self.options
        if opts.embedded:
            from smnb.server import serve  # only now: it loads the recognizer stack

            async with serve() as url:
                await self._run_runner(url, {}, embedded=True)
            return
        key = opts.api_key
        if key is not None and opts.temp_key_ttl is not None:
            key = await asyncio.to_thread(mint_temp_key, key, ttl=opts.temp_key_ttl)
        await self._run_runner(opts.url or rt_url(), auth_headers(key), embedded=False)

    async def _run_runner(self, url: str, headers: dict[str, str], *, embedded: bool) -> None:
        opts = self.options
        self.runner = SessionRunner(
            url,
            self.source,
            self.start_message,
            self.recorder,
            headers=headers,
            pace=opts.pace,
            max_unacked=opts.max_unacked,
            timeout=opts.timeout,
            result=self.result,
            note={"embedded_server": embedded, "authenticated": bool(headers)},
        )
        if self._stop_requested:
            self.runner.request_stop()
        await self.runner.run()

    async def _finish(self, error: BaseException | None) -> None:
        if error is not None:
            self.result.error = error
            records = self.recorder.records
            if not records or records[-1].direction != META or records[-1].type != "ClientError":
                message = scrub_text(str(error))
                self.recorder.record_meta(
                    "ClientError", {"error": type(error).__name__, "message": message}
                )
        self.result.live = False
        if self.writer is None:
            return
        try:
            await asyncio.to_thread(self.result.to_csv, self.writer.path.parent)
        except Exception:  # the log is on disk already; tables can be rebuilt from it
            logger.exception("could not write the tables to %s", self.writer.path.parent)
        finally:
            self.writer.close()
