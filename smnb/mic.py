"""The local microphone (python-sounddevice / PortAudio) as an audio source.

:class:`Microphone` satisfies the AudioSource contract of docs/architecture.md
(``live=True``): it captures 16-bit PCM in ``chunk_seconds`` blocks and yields
them as :class:`~smnb.audio.sources.Chunk` objects until :meth:`Microphone.stop`
(or ``max_seconds``), then the session sends ``EndOfStream`` and waits for the
last finals. Everything captured before the stop is delivered.

sounddevice is imported lazily (``pip install 'smnb[mic]'``); a missing
package, a missing PortAudio library or the absence of any input device raise
:class:`~smnb.exceptions.DeviceError` with an install hint, when the
microphone is created rather than mid-session.

Threading: PortAudio calls the capture callback on its own thread; the
callback only copies the block and hands it to the session loop with
``loop.call_soon_threadsafe``.

Must not import: ipywidgets, anywidget, pandas, websockets, smnb.session.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from smnb.audio.sources import Chunk
from smnb.clock import Clock, monotonic
from smnb.exceptions import DeviceError

logger = logging.getLogger(__name__)

_END = object()

INSTALL_HINT = "install it with `pip install 'smnb[mic]'` (or `pip install sounddevice`)"
PORTAUDIO_HINT = (
    "sounddevice needs the PortAudio library: `apt-get install libportaudio2` on Debian/Ubuntu, "
    "`brew install portaudio` on macOS (the Windows and macOS wheels bundle it)"
)
REMOTE_HINT = (
    "In Colab, Binder or any remote kernel the machine running Python has no microphone: "
    "use the browser's microphone instead, `smnb.live(smnb.widgets.BrowserMic())`."
)


def _sounddevice() -> Any:
    """Import sounddevice, turning every way it can fail into a DeviceError."""
    try:
        return importlib.import_module("sounddevice")
    except ImportError as exc:
        raise DeviceError(f"the local microphone needs sounddevice: {INSTALL_HINT}") from exc
    except OSError as exc:  # sounddevice raises OSError when libportaudio is missing
        raise DeviceError(f"PortAudio is not available ({exc}); {PORTAUDIO_HINT}") from exc


def list_devices() -> list[dict[str, Any]]:
    """The input devices PortAudio can see: ``index``, ``name``, ``channels``, ``default_rate``.

    Raises:
        DeviceError: sounddevice or PortAudio is missing.
    """
    sd = _sounddevice()
    devices = []
    for index, dev in enumerate(sd.query_devices()):
        if int(dev.get("max_input_channels", 0)) > 0:
            devices.append(
                {
                    "index": index,
                    "name": str(dev.get("name", "")),
                    "channels": int(dev["max_input_channels"]),
                    "default_rate": float(dev.get("default_samplerate", 0.0)),
                }
            )
    return devices


class Microphone:
    """A local microphone as a live AudioSource.

    Args:
        device: a PortAudio device index or (part of a) name; ``None`` for the default input.
        sample_rate: capture rate; when the device cannot capture at it, its
            default rate is used (``audio_format`` always tells the truth).
        chunk_seconds: audio per chunk (and per PortAudio block).
        max_seconds: stop by itself after this much audio (``None``: until :meth:`stop`).
        clock: monotonic seconds for ``Chunk.captured_t``.

    Raises:
        DeviceError: sounddevice/PortAudio missing, no input device, or the device
            rejects every usable setting.
    """

    live = True

    def __init__(
        self,
        device: int | str | None = None,
        *,
        sample_rate: int = 16_000,
        chunk_seconds: float = 0.1,
        max_seconds: float | None = None,
        clock: Clock = monotonic,
    ) -> None:
        self._sd = _sounddevice()
        self.device = device
        self.chunk_seconds = chunk_seconds
        self.max_seconds = max_seconds
        self._clock = clock
        self.device_name, self.sample_rate = self._check_device(sample_rate)
        self.audio_format: dict[str, Any] = {
            "type": "raw",
            "encoding": "pcm_s16le",
            "sample_rate": self.sample_rate,
        }
        self.name = f"microphone {self.device_name!r}"
        self.overflows = 0
        self.seconds_captured = 0.0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Any] | None = None
        self._stopped = False

    def _check_device(self, sample_rate: int) -> tuple[str, int]:
        sd = self._sd
        try:
            info = sd.query_devices(self.device, kind="input")
        except Exception as exc:  # ValueError or PortAudioError, depending on the cause
            which = "default input device" if self.device is None else f"device {self.device!r}"
            raise DeviceError(
                f"no microphone: {which} is not available ({exc}). {REMOTE_HINT}"
            ) from exc
        name = str(info.get("name", "input"))
        for rate in (sample_rate, int(info.get("default_samplerate") or 0)):
            if rate <= 0:
                continue
            try:
                sd.check_input_settings(
                    device=self.device, channels=1, dtype="int16", samplerate=rate
                )
            except Exception:
                continue
            return name, rate
        raise DeviceError(f"microphone {name!r} cannot capture 16-bit mono audio")

    # --- the AudioSource contract -------------------------------------------

    async def chunks(self) -> AsyncIterator[Chunk]:
        """Capture and yield chunks until :meth:`stop` or ``max_seconds``."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        with self._lock:
            self._loop, self._queue = loop, queue
            if self._stopped:
                return
        blocksize = max(1, round(self.sample_rate * self.chunk_seconds))

        def callback(indata: Any, frames: int, time_info: Any, status: Any) -> None:
            # PortAudio's thread: copy the block, hand it over, return quickly.
            if status:
                self.overflows += 1
            item = (bytes(indata), self._clock())
            with contextlib.suppress(RuntimeError):  # the loop closed under us
                loop.call_soon_threadsafe(queue.put_nowait, item)

        try:
            stream = self._sd.RawInputStream(
                samplerate=self.sample_rate,
                blocksize=blocksize,
                device=self.device,
                channels=1,
                dtype="int16",
                callback=callback,
            )
            stream.start()
        except Exception as exc:
            raise DeviceError(f"cannot open {self.name}: {exc}. {REMOTE_HINT}") from exc
        limit = None if self.max_seconds is None else round(self.max_seconds * self.sample_rate)
        samples = 0
        try:
            while limit is None or samples < limit:
                item = await queue.get()
                if item is _END:
                    break
                data, captured = item
                n = len(data) // 2
                if limit is not None and samples + n > limit:
                    n = limit - samples
                    data = data[: 2 * n]
                yield Chunk(
                    data,
                    samples / self.sample_rate,
                    (samples + n) / self.sample_rate,
                    captured_t=captured,
                )
                samples += n
                self.seconds_captured = samples / self.sample_rate
        finally:
            # abort, not stop: stop() waits for PortAudio buffers that a silent or
            # stalled device may never fill; audio after the stop is not wanted anyway.
            stream.abort()
            stream.close()

    def stop(self) -> None:
        """End the stream gracefully (thread-safe); blocks already captured are still sent."""
        with self._lock:
            self._stopped = True
            loop, queue = self._loop, self._queue
        if loop is not None and queue is not None:
            with contextlib.suppress(RuntimeError):  # loop closed: the stream is over already
                loop.call_soon_threadsafe(queue.put_nowait, _END)

    def __repr__(self) -> str:
        return f"<Microphone {self.device_name!r} {self.sample_rate} Hz>"
