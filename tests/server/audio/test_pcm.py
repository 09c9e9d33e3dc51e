"""smnb.server.audio.pcm: sample formats → 16 kHz mono int16, checked against libsndfile.

libsndfile (through soundfile) is the independent reference: it encodes test signals in
each raw sample format and decodes them for comparison, so the expected values are never
written by hand.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from smnb.exceptions import UndecodableAudio
from smnb.server.audio import pcm
from smnb.server.audio.pcm import EMPTY, Frames, Kind, to_int16
from tests.support.audio_formats import decode as decode_format
from tests.support.audio_formats import encoded

RNG = np.random.default_rng(20240609)


def noise(n: int, channels: int = 1) -> np.ndarray:
    """Float32 test signal in [-0.9, 0.9] (``n`` frames of ``channels``)."""
    shape = (n,) if channels == 1 else (n, channels)
    return RNG.uniform(-0.9, 0.9, shape).astype(np.float32)


def raw(x: np.ndarray, subtype: str, rate: int = 16000) -> bytes:
    """``x`` encoded by libsndfile as headerless little-endian ``subtype`` samples."""
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="RAW", subtype=subtype, endian="LITTLE")
    return buf.getvalue()


def libsndfile_int16(data: bytes, subtype: str, channels: int = 1) -> np.ndarray:
    """libsndfile's own decoding of ``data`` to int16."""
    out, _ = sf.read(
        io.BytesIO(data), samplerate=16000, channels=channels, format="RAW",
        subtype=subtype, endian="LITTLE", dtype="float32", always_2d=True,
    )  # fmt: skip
    return to_int16(out.mean(axis=1, dtype=np.float32))


def decode(frames: Frames, data: bytes, piece: int) -> np.ndarray:
    parts = [frames.push(data[i : i + piece]) for i in range(0, len(data), piece)]
    parts.append(frames.finish())
    out = np.concatenate(parts)
    assert out.dtype == np.int16
    return out


def test_every_mulaw_and_alaw_code_decodes_as_libsndfile_does() -> None:
    codes = bytes(range(256))
    for kind, subtype in ((("mulaw", 1), "ULAW"), (("alaw", 1), "ALAW")):
        got = Frames(kind, 1, 16000).push(codes)
        expected = sf.read(
            io.BytesIO(codes), samplerate=16000, channels=1, format="RAW", subtype=subtype,
            dtype="int16",
        )[0]  # fmt: skip
        assert np.array_equal(got, expected), subtype
        assert len(set(got.tolist())) >= 254  # the table spans the codes (±0 may coincide)


@pytest.mark.parametrize(
    ("kind", "subtype"),
    [
        (("int", 2), "PCM_16"),
        (("int", 3), "PCM_24"),
        (("int", 4), "PCM_32"),
        (("uint", 1), "PCM_U8"),
        (("float", 4), "FLOAT"),
        (("float", 8), "DOUBLE"),
    ],
)
@pytest.mark.parametrize("channels", [1, 3])
def test_linear_formats_in_odd_pieces_match_libsndfile(
    kind: Kind, subtype: str, channels: int
) -> None:
    data = raw(noise(800, channels), subtype)
    frames = Frames(kind, channels, 16000)
    assert frames.frame_bytes == kind[1] * channels
    got = decode(frames, data, piece=7)  # pieces split samples and frames anywhere
    expected = libsndfile_int16(data, subtype, channels)
    assert len(got) == len(expected) == 800
    assert int(np.abs(got.astype(np.int32) - expected).max()) <= 1  # rounding at most


def test_channels_are_averaged() -> None:
    left = noise(1600)
    stereo = np.stack([left, left * 0.5], axis=1)
    got = Frames(("float", 4), 2, 16000).push(stereo.astype("<f4").tobytes())
    assert np.array_equal(got, to_int16(left * 0.75))
    opposed = np.stack([left, -left], axis=1).astype("<f4").tobytes()
    assert not Frames(("float", 4), 2, 16000).push(opposed).any()


def test_16k_mono_s16_passes_through_untouched_and_a_trailing_half_sample_is_dropped() -> None:
    samples = (noise(1000) * 32767).astype("<i2")
    frames = Frames(("int", 2), 1, 16000)
    data = samples.tobytes() + b"\x01"  # half a sample at the end
    got = [frames.push(data[i : i + 333]) for i in range(0, len(data), 333)]
    assert np.array_equal(np.concatenate(got), samples)
    assert frames.finish() is EMPTY and len(EMPTY) == 0 and EMPTY.dtype == np.int16


def test_a_piece_smaller_than_a_frame_yields_nothing_until_the_frame_completes() -> None:
    frames = Frames(("int", 3), 2, 16000)  # 6-byte frames
    frame = raw(np.array([[0.5, 0.25]], dtype=np.float32), "PCM_24")
    assert len(frames.push(frame[:5])) == 0
    assert frames.push(frame[5:]).tolist() == [to_int16(np.float32([0.375]))[0]]


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_other_rates_are_resampled_to_16k_keeping_the_pitch(rate: int) -> None:
    seconds, pitch = 1.0, 440.0
    t = np.arange(int(rate * seconds)) / rate
    tone = (0.5 * np.sin(2 * np.pi * pitch * t)).astype(np.float32)
    whole = decode(Frames(("float", 4), 1, rate), tone.astype("<f4").tobytes(), 1 << 20)
    pieces = decode(Frames(("float", 4), 1, rate), tone.astype("<f4").tobytes(), 1001)
    assert abs(len(whole) - 16000 * seconds) <= 2  # finish() flushes the resampler's tail
    assert len(pieces) == len(whole)
    assert int(np.abs(pieces.astype(np.int32) - whole).max()) <= 1  # state kept across pieces
    spectrum = np.abs(np.fft.rfft(whole.astype(np.float64)))
    peak = np.argmax(spectrum) * 16000 / len(whole)
    assert abs(peak - pitch) < 2.0
    level = np.sqrt(np.mean((whole[2000:-2000] / 32768.0) ** 2))
    assert abs(level - 0.5 / np.sqrt(2)) < 0.01  # amplitude kept


def test_to_int16_clips_instead_of_wrapping() -> None:
    x = np.array([2.0, -2.0, 1.0, -1.0, 0.5, 0.0], dtype=np.float32)
    assert to_int16(x).tolist() == [32767, -32768, 32767, -32768, 16384, 0]


def test_unsupported_formats_and_no_channels_are_undecodable() -> None:
    with pytest.raises(UndecodableAudio, match="no channels"):
        Frames(("int", 2), 0, 16000)
    with pytest.raises(UndecodableAudio, match="unsupported sample format int64"):
        Frames(("int", 8), 1, 16000).push(b"\0" * 16)
    with pytest.raises(UndecodableAudio, match="unsupported sample format float16"):
        Frames(("float", 2), 1, 16000).push(b"\0" * 4)


def test_a_big_frame_decodes_in_slices_like_many_small_ones() -> None:
    clip = np.frombuffer(encoded("RAW", "ULAW", rate=8000), dtype=np.uint8).tobytes()
    data = clip * (pcm.SLICE_BYTES // len(clip) + 2)  # more than one slice in one frame
    fmt = {"type": "raw", "encoding": "mulaw", "sample_rate": 8000}
    big, small = decode_format(fmt, data, len(data)), decode_format(fmt, data, 4096)
    assert len(big) == len(small) == 2 * len(data)
    assert np.max(np.abs(big.astype(np.int32) - small)) <= 1


def test_float_garbage_decodes_to_finite_samples() -> None:
    garbage = np.array([np.nan, np.inf, -np.inf, 0.5] * 4000, dtype="<f4").tobytes()
    out = decode_format({"type": "raw", "encoding": "pcm_f32le", "sample_rate": 16000}, garbage)
    assert out.dtype == np.int16 and len(out) == 16000
    assert set(np.unique(out[:4]).tolist()) <= {0, 32767, -32768, 16384}
