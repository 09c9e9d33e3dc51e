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
callback only copies the block and feeds it to :class:`~smnb.audio.live.LiveSource`,
which hands it to the session loop.

Must not import: ipywidgets, anywidget, pandas, websockets, smnb.session.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any

from smnb.audio.live import LiveSource
from smnb.clock import Clock, monotonic
from smnb.exceptions import DeviceError

logger = logging.getLogger(__name__)

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


class Microphone(LiveSource):
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
        self.device_name, rate = self._check_device(sample_rate)
        super().__init__(
            sample_rate=rate,
            chunk_seconds=chunk_seconds,
            max_seconds=max_seconds,
            name=f"microphone {self.device_name!r}",
            clock=clock,
        )
        self.overflows = 0
        self._stream: Any = None

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

    # --- the capture around LiveSource.chunks() ---------------------------------

    def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        def callback(indata: Any, frames: int, time_info: Any, status: Any) -> None:
            # PortAudio's thread: copy the block, hand it over, return quickly.
            if status:
                self.overflows += 1
            self.feed(bytes(indata), self._clock())

        try:
            stream = self._sd.RawInputStream(
                samplerate=self.sample_rate,
                blocksize=max(1, round(self.sample_rate * self.chunk_seconds)),
                device=self.device,
                channels=1,
                dtype="int16",
                callback=callback,
            )
            stream.start()
        except Exception as exc:
            raise DeviceError(f"cannot open {self.name}: {exc}. {REMOTE_HINT}") from exc
        self._stream = stream

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            # abort, not stop: stop() waits for PortAudio buffers that a silent or
            # stalled device may never fill; audio after the stop is not wanted anyway.
            stream.abort()
            stream.close()

    def __repr__(self) -> str:
        return f"<Microphone {self.device_name!r} {self.sample_rate} Hz>"
