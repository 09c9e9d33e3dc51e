"""Decoding, audio sources and pacing (no network)."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from smnb.audio import (
    AckWindow,
    AudioSource,
    Chunk,
    EncodedFileSource,
    Pacer,
    PcmSource,
    StreamSource,
    array_to_pcm,
    decode_file,
    open_source,
)
from smnb.audio.decode import probe_duration
from smnb.clock import ManualClock
from smnb.exceptions import AudioError, ConfigError

SAMPLES = Path(__file__).resolve().parents[1] / "smnb" / "samples"
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


# --- decoding -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "fmt", "subtype"),
    [
        ("wav", "WAV", "PCM_16"),
        ("flac", "FLAC", None),
        ("ogg", "OGG", "VORBIS"),
        ("mp3", "MP3", "MPEG_LAYER_III"),
        ("m4a", None, None),
    ],
)
def test_every_format_decodes_to_16k_mono_int16(
    tmp_path: Path, ext: str, fmt: str | None, subtype: str | None
) -> None:
    x = sine(440.0, 1.0, 44_100)
    path = tmp_path / f"tone.{ext}"
    if fmt is None:
        write_m4a(path, x, 44_100)
    else:
        sf.write(path, x, 44_100, format=fmt, subtype=subtype)
    audio = decode_file(path)
    assert audio.sample_rate == 16_000
    assert audio.samples.dtype == np.int16 and audio.channels == 1
    assert audio.duration == pytest.approx(1.0, abs=0.06)  # lossy codecs pad a little
    assert peak_hz(audio.samples, 16_000) == pytest.approx(440.0, abs=3.0)
    assert np.abs(audio.samples).max() == pytest.approx(0.3 * 32767, rel=0.1)


def test_lossless_16k_wav_is_kept_bit_exact() -> None:
    original, rate = sf.read(MONO, dtype="int16")
    audio = decode_file(MONO)
    assert rate == 16_000
    np.testing.assert_array_equal(audio.samples[:, 0], original)


def test_stereo_mixes_down_or_keeps_channels() -> None:
    original, _ = sf.read(STEREO, dtype="int16", always_2d=True)
    kept = decode_file(STEREO, mono=False)
    np.testing.assert_array_equal(kept.samples, original)
    mixed = decode_file(STEREO)
    assert mixed.channels == 1
    expected = (original.astype(np.int32).sum(axis=1) // 2).astype(np.int16)
    np.testing.assert_array_equal(mixed.samples[:, 0], expected)


def test_probe_duration_knows_ffmpeg_only_files(tmp_path: Path) -> None:
    path = write_m4a(tmp_path / "x.m4a", sine(300.0, 2.0, 22_050), 22_050)
    assert probe_duration(path) == pytest.approx(2.0, abs=0.1)  # AAC priming
    assert probe_duration(MONO) == pytest.approx(1.1, abs=0.01)


def _video(d: Path) -> Path:
    path = d / "video.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return path


def _write(name: str, data: bytes) -> object:
    def make(d: Path) -> Path:
        (d / name).write_bytes(data)
        return d / name

    return make


def _wav_header_only() -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(0, np.int16), 16_000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


BAD_FILES = {
    "missing": (lambda d: d / "missing.wav", "no such audio file"),
    "directory": (lambda d: d, "is a directory"),
    "empty": (_write("empty.wav", b""), "the file is empty"),
    "text": (_write("notes.txt", b"hello\n"), "not a readable audio file"),
    "garbage": (_write("junk.wav", b"RIFF" + os.urandom(4000)), "not a readable audio file"),
    "header-only": (_write("header.wav", _wav_header_only()), "holds no audio samples"),
    "video": (_video, "no audio stream"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_fail_with_one_line_naming_file_and_problem(tmp_path: Path, case: str) -> None:
    make, expected = BAD_FILES[case]
    path = make(tmp_path)  # type: ignore[operator]
    for attempt in (decode_file, probe_duration):
        with pytest.raises(AudioError) as info:
            attempt(path)
        message = str(info.value)
        assert expected in message
        assert str(path) in message
        assert "\n" not in message


# --- arrays ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "scale"),
    [
        (np.float32, 1.0),
        (np.float64, 1.0),
        (np.int16, 32767),
        (np.int32, 2**31 - 1),
        (np.uint8, None),
    ],
)
def test_arrays_of_any_sample_type_convert(dtype: type, scale: float | None) -> None:
    x = sine(1000.0, 0.5, 8_000)
    if scale is None:
        data = np.round(x * 127 + 128).astype(np.uint8)
    else:
        data = np.round(x * scale).astype(dtype) if scale != 1.0 else x.astype(dtype)
    audio = array_to_pcm(data, 8_000)
    assert audio.sample_rate == 16_000 and audio.duration == pytest.approx(0.5)
    assert np.abs(audio.samples).max() == pytest.approx(0.3 * 32767, rel=0.03)
    assert peak_hz(audio.samples, 16_000) == pytest.approx(1000.0, abs=4.0)


def test_array_problems() -> None:
    with pytest.raises(ConfigError, match="sample_rate is required"):
        array_to_pcm(np.zeros(10), None)
    with pytest.raises(AudioError, match="empty"):
        array_to_pcm(np.zeros(0), 16_000)
    with pytest.raises(AudioError, match="NaN"):
        array_to_pcm(np.array([0.0, np.nan]), 16_000)
    with pytest.raises(AudioError, match=r"\(frames,\)"):
        array_to_pcm(np.zeros((2, 2, 2)), 16_000)


# --- sources ----------------------------------------------------------------------


async def test_pcm_source_yields_contiguous_exact_frames() -> None:
    audio = decode_file(MONO)
    source = PcmSource(audio, chunk_seconds=0.1)
    chunks = await collect(source)
    assert b"".join(c.data for c in chunks) == audio.samples.tobytes()
    assert [len(c.data) for c in chunks[:-1]] == [3200] * (len(chunks) - 1)
    assert chunks[0].audio_start == 0.0
    for before, after in itertools.pairwise(chunks):
        assert before.audio_end == after.audio_start
    assert chunks[-1].audio_end == pytest.approx(audio.duration)
    assert source.audio_format == {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


async def test_per_channel_source_sends_each_span_for_every_label() -> None:
    source = open_source(STEREO, per_channel=True)
    assert source.channels == ["left", "right"]  # type: ignore[attr-defined]
    chunks = await collect(source)
    left = [c for c in chunks if c.channel == "left"]
    right = [c for c in chunks if c.channel == "right"]
    assert [c.channel for c in chunks[:4]] == ["left", "right", "left", "right"]
    original, _ = sf.read(STEREO, dtype="int16", always_2d=True)
    assert b"".join(c.data for c in left) == original[:, 0].tobytes()
    assert b"".join(c.data for c in right) == original[:, 1].tobytes()
    assert [c.audio_end for c in left] == [c.audio_end for c in right]


async def test_stop_ends_a_source_early() -> None:
    source = open_source(MONO)
    got = []
    async for chunk in source.chunks():
        got.append(chunk)
        if len(got) == 3:
            source.stop()
    assert len(got) == 3


async def test_encoded_file_source_sends_the_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "tone.mp3"
    sf.write(path, sine(440.0, 2.0, 16_000), 16_000, format="MP3")
    source = open_source(path, audio_format="file", chunk_seconds=0.25)
    assert isinstance(source, EncodedFileSource) and source.audio_format == {"type": "file"}
    chunks = await collect(source)
    assert b"".join(c.data for c in chunks) == path.read_bytes()
    assert chunks[-1].audio_end == pytest.approx(source.duration)
    assert chunks[1].audio_end - chunks[1].audio_start == pytest.approx(0.25, rel=0.05)


async def test_stream_source_recuts_blocks_into_whole_sample_frames() -> None:
    data = np.arange(16_000, dtype="<i2").tobytes() + b"\x01"  # one stray byte at the end

    async def blocks() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 777):  # odd sizes that split samples
            yield data[i : i + 777]
            await asyncio.sleep(0)

    source = open_source(blocks(), sample_rate=16_000, chunk_seconds=0.1)
    assert isinstance(source, StreamSource)
    chunks = await collect(source)
    assert b"".join(c.data for c in chunks) == data[:-1]
    assert all(len(c.data) % 2 == 0 for c in chunks)
    assert [len(c.data) for c in chunks] == [3200] * 10
    assert chunks[-1].audio_end == pytest.approx(1.0)


def test_open_source_checks_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"2 or more channels; cards-001\.wav has 1"):
        open_source(MONO, per_channel=True)
    with pytest.raises(ConfigError, match=r"has 3 labels but stereo-two-channels\.wav has 2"):
        open_source(STEREO, per_channel=True, channel_labels=["a", "b", "c"])
    with pytest.raises(ConfigError, match="needs a path"):
        open_source(np.zeros(10), audio_format="file", sample_rate=16_000)
    with pytest.raises(ConfigError, match="sample_rate is required"):
        open_source(_empty_stream())
    with pytest.raises(AudioError, match="cannot stream a dict"):
        open_source({"not": "audio"})
    with pytest.raises(ConfigError, match="audio_format"):
        open_source(MONO, audio_format="mp3")
    with pytest.raises(ConfigError, match="chunk_seconds"):
        open_source(MONO, chunk_seconds=0)
    labelled = open_source(STEREO, per_channel=True, channel_labels=["agent", "caller"])
    assert labelled.channels == ["agent", "caller"]  # type: ignore[attr-defined]


async def _empty_stream() -> AsyncIterator[bytes]:
    if False:  # pragma: no cover - an async generator that yields nothing
        yield b""


def test_an_existing_source_is_used_as_it_is() -> None:
    source = PcmSource(decode_file(MONO))
    assert open_source(source) is source


# --- pacing -------------------------------------------------------------------------


def fake_sleep(clock: ManualClock, log: list[float]) -> object:
    async def sleep(seconds: float) -> None:
        log.append(seconds)
        clock.advance(seconds)
        await asyncio.sleep(0)

    return sleep


async def test_realtime_deadlines_are_absolute_and_never_drift() -> None:
    clock, sleeps = ManualClock(100.0), []
    pacer = Pacer(lambda: clock() - 100.0, "realtime", sleep=fake_sleep(clock, sleeps))  # type: ignore[arg-type]
    clock.advance(2.0)  # the pacer starts 2 s into the recording
    scheduled = []
    for k in range(5):
        chunk = Chunk(b"", k * 0.1, (k + 1) * 0.1)
        scheduled.append(await pacer.wait(chunk))
        clock.advance(0.013)  # each send costs 13 ms
    assert pacer.t0 == 2.0
    assert scheduled == pytest.approx([2.1, 2.2, 2.3, 2.4, 2.5], abs=1e-12)
    # the first sleep is one chunk; later ones are shortened by the send cost
    assert sleeps == pytest.approx([0.1, 0.087, 0.087, 0.087, 0.087], abs=1e-12)


async def test_a_late_chunk_is_sent_at_once_and_keeps_its_deadline() -> None:
    clock, sleeps = ManualClock(), []
    pacer = Pacer(clock, "realtime", sleep=fake_sleep(clock, sleeps))  # type: ignore[arg-type]
    assert await pacer.wait(Chunk(b"", 0.0, 0.1)) == pytest.approx(0.1)
    clock.advance(0.35)  # stalled (e.g. waiting for acks) past two deadlines
    assert await pacer.wait(Chunk(b"", 0.1, 0.2)) == pytest.approx(0.2)
    assert await pacer.wait(Chunk(b"", 0.2, 0.3)) == pytest.approx(0.3)
    assert await pacer.wait(Chunk(b"", 0.3, 0.4)) == pytest.approx(0.4)
    assert await pacer.wait(Chunk(b"", 0.4, 0.5)) == pytest.approx(0.5)
    assert sleeps == pytest.approx([0.1, 0.05])


async def test_fast_and_live_pace_never_sleep() -> None:
    clock, sleeps = ManualClock(50.0), []
    fast = Pacer(clock, "fast", sleep=fake_sleep(clock, sleeps))  # type: ignore[arg-type]
    assert await fast.wait(Chunk(b"", 0.0, 0.1)) == 50.0
    assert fast.t0 == pytest.approx(49.9)
    live = Pacer(
        lambda: clock() - 40.0, "realtime", live=True, origin=40.0, sleep=fake_sleep(clock, sleeps)
    )  # type: ignore[arg-type]
    assert await live.wait(Chunk(b"", 0.0, 0.1, captured_t=49.5)) == pytest.approx(9.5)
    assert await live.wait(Chunk(b"", 0.1, 0.2)) == pytest.approx(10.0)  # no capture time: now
    assert sleeps == []
    with pytest.raises(ConfigError, match="pace"):
        Pacer(clock, "slow")  # type: ignore[arg-type]


async def test_ack_window_blocks_at_the_limit_until_notified() -> None:
    window = AckWindow(2)
    unacked = [2]
    waiter = asyncio.ensure_future(window.room(lambda: unacked[0]))
    await asyncio.sleep(0)
    assert not waiter.done() and window.waits == 1
    window.notify()  # a stale wake-up: still full, it waits again
    await asyncio.sleep(0)
    assert not waiter.done() and window.waits == 2
    unacked[0] = 1
    window.notify()
    await asyncio.wait_for(waiter, 5)
    with pytest.raises(ConfigError):
        AckWindow(0)
