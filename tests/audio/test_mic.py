"""The local microphone: unit tests with a fake sounddevice, and one real PulseAudio run.

The integration test starts its own PulseAudio daemon with a pipe-source virtual
microphone (a FIFO we write a sample WAV into at real-time pace), so the audio goes
through PortAudio and sounddevice exactly as a real microphone's would, into a real
session against the embedded server.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time
import types
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import smnb.audio.mic
from smnb.audio.mic import Microphone, list_devices
from smnb.audio.sources import AudioSource
from smnb.exceptions import DeviceError

SAMPLES = Path(smnb.audio.mic.__file__).parents[1] / "samples"


# --- a fake sounddevice -----------------------------------------------------------


class FakeStream:
    """Calls the callback from its own thread with 16-bit blocks, like PortAudio."""

    def __init__(self, samplerate: int, blocksize: int, callback: Any, **kw: Any) -> None:
        self.samplerate, self.blocksize, self.callback = samplerate, blocksize, callback
        self.kw = kw
        self.blocks = 0
        self._run = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="portaudio-fake")

    def _loop(self) -> None:
        while self._run.is_set():
            value = (self.blocks % 100).to_bytes(2, "little")
            self.callback(value * self.blocksize, self.blocksize, None, self.blocks == 3)
            self.blocks += 1
            time.sleep(0.002)

    def start(self) -> None:
        self._run.set()
        self._thread.start()

    def abort(self) -> None:
        self._run.clear()
        self._thread.join()

    def close(self) -> None:
        pass


def fake_sounddevice(*, devices: list[dict[str, Any]], rates: set[int]) -> types.ModuleType:
    sd = types.ModuleType("sounddevice")
    streams: list[FakeStream] = []

    def query_devices(device: Any = None, kind: str | None = None) -> Any:
        if kind is None:
            return devices
        inputs = [d for d in devices if d["max_input_channels"] > 0]
        if not inputs:
            raise ValueError("No input device matching -1")
        return inputs[0]

    def check_input_settings(**kw: Any) -> None:
        if kw["samplerate"] not in rates:
            raise ValueError("Invalid sample rate")

    def raw_input_stream(**kw: Any) -> FakeStream:
        stream = FakeStream(**kw)
        streams.append(stream)
        return stream

    sd.query_devices = query_devices  # type: ignore[attr-defined]
    sd.check_input_settings = check_input_settings  # type: ignore[attr-defined]
    sd.RawInputStream = raw_input_stream  # type: ignore[attr-defined]
    sd.streams = streams  # type: ignore[attr-defined]
    return sd


MIC = {"name": "Fake Mic", "max_input_channels": 2, "default_samplerate": 48000.0}
SPEAKER = {"name": "Fake Out", "max_input_channels": 0, "default_samplerate": 48000.0}


@pytest.fixture
def fake_sd(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    sd = fake_sounddevice(devices=[SPEAKER, MIC], rates={16000, 48000})
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    return sd


def test_missing_sounddevice_is_a_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails
    with pytest.raises(DeviceError, match=r"pip install 'smnb\[mic\]'"):
        Microphone()


def test_missing_portaudio_is_a_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> Any:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(smnb.audio.mic.importlib, "import_module", broken)
    with pytest.raises(DeviceError, match="libportaudio2") as info:
        list_devices()
    assert "PortAudio library not found" in str(info.value)


def test_no_input_device_is_a_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        sys.modules, "sounddevice", fake_sounddevice(devices=[SPEAKER], rates=set())
    )
    with pytest.raises(DeviceError, match="no microphone") as info:
        Microphone()
    assert "BrowserMic" in str(info.value)  # the hint for remote kernels
    assert list_devices() == []


def test_list_devices(fake_sd: types.ModuleType) -> None:
    assert list_devices() == [
        {"index": 1, "name": "Fake Mic", "channels": 2, "default_rate": 48000.0}
    ]


def test_falls_back_to_the_device_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(devices=[MIC], rates={48000}))
    mic = Microphone()
    assert mic.sample_rate == 48000
    assert mic.audio_format == {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 48000}


def test_unusable_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(devices=[MIC], rates=set()))
    with pytest.raises(DeviceError, match="cannot capture"):
        Microphone()


async def test_chunks_until_stop_lose_nothing_captured(fake_sd: types.ModuleType) -> None:
    mic = Microphone(chunk_seconds=0.05)
    assert isinstance(mic, AudioSource) and mic.live
    got = []
    async for chunk in mic.chunks():
        got.append(chunk)
        if len(got) == 10:
            # stop() from another thread (a button handler); chunks captured before
            # it was handled are still delivered, then the iteration ends.
            threading.Thread(target=mic.stop).start()
    stream = fake_sd.streams[0]
    assert stream.kw == {"device": None, "channels": 1, "dtype": "int16"}
    assert stream.blocksize == 800
    assert len(got) >= 10
    assert [c.data[:2] for c in got] == [k.to_bytes(2, "little") for k in range(len(got))]
    assert [c.audio_start for c in got] == [k * 800 / 16000 for k in range(len(got))]
    assert all(c.captured_t is not None for c in got)
    assert not stream._run.is_set()  # the PortAudio stream was stopped
    assert mic.overflows == 1


async def test_max_seconds_cuts_exactly(fake_sd: types.ModuleType) -> None:
    mic = Microphone(chunk_seconds=0.1, max_seconds=0.25)
    got = [c async for c in mic.chunks()]
    assert [len(c.data) for c in got] == [3200, 3200, 1600]
    assert got[-1].audio_end == 0.25
    assert mic.seconds_captured == 0.25


async def test_stop_before_start(fake_sd: types.ModuleType) -> None:
    mic = Microphone()
    mic.stop()
    assert [c async for c in mic.chunks()] == []
    assert fake_sd.streams == []


async def test_open_failure_is_a_device_error(fake_sd: types.ModuleType) -> None:
    def refuse(**kw: Any) -> Any:
        raise RuntimeError("Error opening RawInputStream: Device unavailable")

    fake_sd.RawInputStream = refuse  # type: ignore[attr-defined]
    with pytest.raises(DeviceError, match="Device unavailable"):
        async for _ in Microphone().chunks():
            pass


# --- a real microphone: PulseAudio's pipe-source as a virtual mic ---------------------------


def reference_overlap(text: str, name: str) -> float:
    ref = set((SAMPLES / f"{name}.txt").read_text().split())
    got = {w.strip(".,?!").lower() for w in text.split()}
    return len(ref & got) / len(ref)


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A private PulseAudio daemon whose default source reads 16 kHz s16le from a FIFO."""
    for tool in ("pulseaudio", "pactl"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: apt-get install pulseaudio pulseaudio-utils")
    xdg = tmp_path_factory.mktemp("pulse")
    xdg.chmod(0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(xdg), HOME=str(xdg))
    daemon = subprocess.Popen(
        [
            "pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--use-pid-file=no",
            "--load=module-native-protocol-unix", "--load=module-null-sink sink_name=virt_sink",
            f"--log-target=file:{xdg / 'pulse.log'}",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode:
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"pulseaudio did not start; see {xdg / 'pulse.log'}")
            time.sleep(0.1)
        fifo = xdg / "fakemic.fifo"
        for cmd in (
            ["load-module", "module-pipe-source", "source_name=fake_mic", f"file={fifo}",
             "format=s16le", "rate=16000", "channels=1"],
            ["set-default-source", "fake_mic"],
        ):  # fmt: skip
            subprocess.run(["pactl", *cmd], env=env, check=True, capture_output=True)
        yield {"fifo": fifo, "server": f"unix:{xdg / 'pulse' / 'native'}", "xdg": xdg}
    finally:
        daemon.terminate()
        daemon.wait(10)


class FifoSpeaker(threading.Thread):
    """Writes to the virtual mic at real-time pace: silence, the speech once asked, silence."""

    def __init__(self, fifo: Path, wav: Path, pad: float = 1.5) -> None:
        super().__init__(name="fifo-speaker", daemon=True)
        with wave.open(str(wav)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
            self.speech = w.readframes(w.getnframes()) + b"\0" * int(32000 * pad)
        self.fifo = fifo
        self.speak = threading.Event()  # set once the microphone is capturing
        self.spoken = threading.Event()  # set after the speech and its padding
        self.quit = threading.Event()

    def run(self) -> None:
        block = 3200  # 100 ms
        fd = os.open(self.fifo, os.O_WRONLY)
        try:
            pending, start, n = self.speech, time.monotonic(), 0
            while not self.quit.is_set():
                if self.speak.is_set() and pending:
                    data, pending = pending[:block], pending[block:]
                    if not pending:
                        self.spoken.set()
                else:
                    data = b"\0" * block
                os.write(fd, data)
                n += 1
                time.sleep(max(0.0, start + n * 0.1 - time.monotonic()))
        finally:
            os.close(fd)


@pytest.mark.slow
async def test_virtual_microphone_through_a_real_session(
    pulse: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Speech written into PulseAudio comes out of sounddevice and is transcribed, all of it."""
    import smnb

    monkeypatch.setenv("PULSE_SERVER", pulse["server"])
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(pulse["xdg"]))
    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)  # the embedded server
    sd = __import__("sounddevice")
    sd._terminate()  # PortAudio lists devices once: rescan now that the server is set
    sd._initialize()
    speaker = FifoSpeaker(pulse["fifo"], SAMPLES / "librivox-ss01-0870.wav")
    speaker.start()
    try:
        mic = Microphone(device="pulse", max_seconds=60)
        assert mic.sample_rate == 16000
        handle = smnb.start(mic, enable_partials=True)
        while mic.seconds_captured == 0 and not handle.done():
            await asyncio.sleep(0.05)
        speaker.speak.set()
        assert await asyncio.to_thread(speaker.spoken.wait, 60)
        await asyncio.sleep(0.3)  # the last written block through PulseAudio and PortAudio
        mic.stop()  # like the stop button: EndOfStream, then every final
        result = await asyncio.wait_for(handle, 120)
    finally:
        speaker.quit.set()
        speaker.join(5)
    assert result.completed, result.error
    assert reference_overlap(result.text, "librivox-ss01-0870") >= 0.5, result.text
    audio = result.audio
    assert audio["audio_end"].max() >= 7.1 + 1.5
    starts, ends = audio["audio_start"].to_numpy(), audio["audio_end"].to_numpy()
    assert (abs(starts[1:] - ends[:-1]) < 1e-9).all()  # contiguous: no chunk lost
    words = result.words
    assert words["end_time"].max() > 4.0  # the end of the speech made it into finals
