"""Audio helpers shared by the audio tests: synthetic signals, sample files, chunk collection."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from smnb.audio import AudioSource, Chunk

SAMPLES = Path(__file__).resolve().parents[2] / "smnb" / "samples"
MONO = SAMPLES / "cards-001.wav"
STEREO = SAMPLES / "stereo-two-channels.wav"


def sine(freq: float, seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    x = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return x if channels == 1 else np.stack([x * (i + 1) / channels for i in range(channels)], 1)


def peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples[:, 0].astype(np.float64)))
    return float(np.argmax(spectrum)) * rate / len(samples)


def write_m4a(path: Path, x: np.ndarray, rate: int) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


async def collect(source: AudioSource) -> list[Chunk]:
    return [chunk async for chunk in source.chunks()]
