"""smnb.audio.decode: every format to 16 kHz mono int16, bad files, arrays."""

from __future__ import annotations

import io
import os
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from smnb.audio import (
    array_to_pcm,
    decode_file,
)
from smnb.audio.decode import probe_duration
from smnb.exceptions import AudioError, ConfigError
from tests.support.audio import MONO, STEREO, peak_hz, sine, write_m4a


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


def _wav_header(rate: int, channels: int, data_bytes: int) -> bytes:
    # A canonical 44-byte PCM_16 header, as a hostile file would forge it.
    block = 2 * channels
    return (
        b"RIFF"
        + (36 + data_bytes).to_bytes(4, "little")
        + b"WAVEfmt "
        + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + channels.to_bytes(2, "little")
        + rate.to_bytes(4, "little")
        + (rate * block).to_bytes(4, "little")
        + block.to_bytes(2, "little")
        + (16).to_bytes(2, "little")
        + b"data"
        + data_bytes.to_bytes(4, "little")
    )


@pytest.mark.parametrize(
    ("rate", "channels", "named"),
    [(1, 1, "1 Hz"), (7_999, 1, "7999 Hz"), (384_000, 1, "384000 Hz"), (8_000, 200, "200 ch")],
)
def test_hostile_header_is_refused_before_resampling(
    tmp_path: Path, rate: int, channels: int, named: str
) -> None:
    # 1 Hz over 1 MB would resample into ~16 GB (a segfault); refused, naming the value.
    data = os.urandom(1 << 20)
    data = data[: len(data) - len(data) % (2 * channels)]
    path = tmp_path / "hostile.wav"
    path.write_bytes(_wav_header(rate, channels, len(data)) + data)
    value = named.split()[0]
    with pytest.raises(
        AudioError,
        match=rf"hostile\.wav: the header declares (a sample rate of )?"
        rf"{value} (Hz|channels)",
    ) as err:
        decode_file(path)
    assert "\n" not in str(err.value)
    with pytest.raises(AudioError, match=value):
        probe_duration(path)


def test_the_range_edges_decode(tmp_path: Path) -> None:
    for rate in (8_000, 192_000):
        path = tmp_path / f"edge{rate}.wav"
        sf.write(path, sine(440.0, 0.2, rate), rate, subtype="PCM_16")
        assert decode_file(path).duration == pytest.approx(0.2, abs=0.01)


def test_decoded_length_is_capped_by_the_file_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A header (or codec) claiming far more audio than the bytes hold is refused before
    # anything is resampled; the cap is lowered so a small real file shows it.
    path = tmp_path / "tone.m4a"
    write_m4a(path, sine(440.0, 1.0, 44_100), 44_100)
    monkeypatch.setattr("smnb.audio.decode.MAX_EXPANSION", 1)
    with pytest.raises(AudioError, match=r"tone\.m4a: the file claims \d+ s of audio, more than"):
        decode_file(path)
    wav = tmp_path / "tone.wav"
    sf.write(wav, sine(440.0, 1.0, 16_000), 16_000, subtype="PCM_16")
    monkeypatch.setattr("smnb.audio.decode.MAX_EXPANSION", 0)
    with pytest.raises(AudioError, match=r"tone\.wav: the file claims 1 s of audio"):
        decode_file(wav)


def test_array_rate_outside_the_range_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="sample_rate must be 8000–192000 Hz, not 1"):
        array_to_pcm(np.zeros(1000, dtype=np.int16), 1)
