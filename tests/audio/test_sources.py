"""smnb.audio.sources: PCM, per-channel, encoded-file and stream sources."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from smnb.audio import (
    EncodedFileSource,
    PcmSource,
    StreamSource,
    decode_file,
    open_source,
)
from tests.support.audio import MONO, STEREO, collect, sine


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
