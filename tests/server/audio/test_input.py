"""Audio as clients send it → 16 kHz mono int16, fed in arbitrary pieces.

Reference: a bundled speech sample (16 kHz int16). Each encoding is produced
from it with soundfile/soxr/PyAV, cut into pieces, decoded, and compared with
the reference (exact where the path is lossless, by correlation otherwise).
"""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import pytest
import soundfile as sf

from smnb.exceptions import UndecodableAudio, UnsupportedAudio
from smnb.server.audio.input import decoder_for
from tests.support.audio_formats import REF, at_rate, decode, encoded, similarity

# --- raw --------------------------------------------------------------------------------


def test_pcm_s16le_16k_passes_through_exactly_in_odd_pieces() -> None:
    out = decode({"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}, REF.tobytes(), 333)
    assert np.array_equal(out, REF)


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])
@pytest.mark.parametrize("encoding", ["pcm_s16le", "pcm_f32le", "mulaw"])
def test_raw_encodings_at_any_rate(encoding: str, rate: int) -> None:
    x = at_rate(rate)
    if encoding == "pcm_s16le":
        data = np.clip(np.rint(x * 32768), -32768, 32767).astype("<i2").tobytes()
    elif encoding == "pcm_f32le":
        data = x.astype("<f4").tobytes()
    else:
        buf = io.BytesIO()
        sf.write(buf, x, rate, format="RAW", subtype="ULAW")
        data = buf.getvalue()
    out = decode({"type": "raw", "encoding": encoding, "sample_rate": rate}, data, 1001)
    assert abs(len(out) - len(REF)) <= 2
    assert similarity(out) > (0.99 if rate > 8000 else 0.97)


def test_float_input_is_clipped_not_wrapped() -> None:
    loud = np.array([2.0, -2.0, 0.5], dtype="<f4").tobytes()
    out = decode({"type": "raw", "encoding": "pcm_f32le", "sample_rate": 16000}, loud)
    assert out.tolist() == [32767, -32768, 16384]


# --- files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "subtype", "rate", "channels", "exact"),
    [
        ("WAV", "PCM_16", 16000, 1, True),
        ("WAV", "PCM_16", 44100, 2, False),
        ("WAV", "PCM_24", 16000, 1, True),
        ("WAV", "FLOAT", 48000, 1, False),
        ("WAV", "ULAW", 8000, 1, False),
        ("WAV", "IMA_ADPCM", 16000, 1, False),  # not PCM: handed to PyAV
        ("FLAC", None, 16000, 1, True),
        ("FLAC", None, 44100, 2, False),
        ("OGG", "VORBIS", 16000, 1, False),
        ("OGG", "OPUS", 48000, 1, False),
        ("MP3", "MPEG_LAYER_III", 16000, 1, False),
        ("MP3", "MPEG_LAYER_III", 44100, 2, False),
    ],
)
@pytest.mark.parametrize("piece", [4096, 97])
def test_file_containers_in_pieces(
    fmt: str, subtype: str | None, rate: int, channels: int, exact: bool, piece: int
) -> None:
    data = encoded(fmt, subtype, rate=rate, channels=channels)
    decoder = decoder_for({"type": "file"})
    parts = [decoder.push(data[i : i + piece]) for i in range(0, len(data), piece)]
    parts.append(decoder.finish())
    out = np.concatenate(parts)
    assert decoder.input_rate == rate
    if exact:
        assert np.array_equal(out[: len(REF)], REF) and len(out) == len(REF)
    else:
        assert abs(len(out) - len(REF)) < 0.1 * 16000
        assert similarity(out) > (0.97 if rate > 8000 else 0.95)


def test_wav_streams_before_the_end_and_long_files_stream_progressively() -> None:
    wav = encoded("WAV", "PCM_16")
    decoder = decoder_for({"type": "file"})
    assert len(decoder.push(wav[:4096])) > 1000  # audio right after the header
    long = np.tile(REF, 10)  # ~30 s: compressed files are decoded as bytes accumulate
    buf = io.BytesIO()
    sf.write(buf, long, 16000, format="FLAC")
    flac = buf.getvalue()
    decoder = decoder_for({"type": "file"})
    early = [decoder.push(flac[i : i + 4096]) for i in range(0, len(flac), 4096)]
    assert sum(map(len, early)) > len(long) // 2
    assert np.array_equal(np.concatenate([*early, decoder.finish()]), long)


def test_streamed_wav_with_unknown_length_and_extra_chunks() -> None:
    # ffmpeg writes 0xFFFFFFFF sizes when piping; LIST chunks come before data
    pcm = REF.tobytes()
    fmt = (
        b"fmt " + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
        + (16000).to_bytes(4, "little") + (32000).to_bytes(4, "little")
        + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    )  # fmt: skip
    info = b"LIST" + (5).to_bytes(4, "little") + b"INFOx\x00"  # odd size, padded
    wav = b"RIFF\xff\xff\xff\xffWAVE" + fmt + info + b"data\xff\xff\xff\xff" + pcm
    assert np.array_equal(decode({"type": "file"}, wav, 50), REF)


def test_m4a_through_pyav() -> None:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(REF[None, :], format="s16", layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    out = decode({"type": "file"}, buf.getvalue())
    assert similarity(out) > 0.97


@pytest.mark.parametrize(
    "data",
    [
        b"definitely not an audio file, just some text",
        b"RIFF\x24\x00\x00\x00WAVEdata\x00\x00\x00\x00",  # data before fmt
        b"ID3" + bytes(range(256)) * 40,  # right magic, garbage inside
        b"abc",  # too short to be anything
    ],
)
def test_undecodable_file_audio(data: bytes) -> None:
    decoder = decoder_for({"type": "file"})
    with pytest.raises(UndecodableAudio):
        for i in range(0, len(data), 4096):
            decoder.push(data[i : i + 4096])
        decoder.finish()


def test_empty_stream_is_not_an_error() -> None:
    assert len(decoder_for({"type": "file"}).finish()) == 0
    raw = decoder_for({"type": "raw", "encoding": "pcm_s16le", "sample_rate": 44100})
    assert len(raw.finish()) == 0


# --- bounds ---------------------------------------------------------------------------


def wav_header(rate: int, channels: int = 1) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * 2 * channels, 2 * channels, 16)
    return b"RIFF\xff\xff\xff\xffWAVEfmt " + struct.pack("<I", 16) + fmt + b"data\xff\xff\xff\xff"


@pytest.mark.parametrize("rate", [1, 1000, 7999, 192_001])
def test_raw_rates_outside_the_supported_range_are_refused_before_decoding(rate: int) -> None:
    with pytest.raises(UnsupportedAudio, match=rf"{rate} Hz; supported rates are 8000–192000"):
        decoder_for({"type": "raw", "encoding": "mulaw", "sample_rate": rate})


@pytest.mark.parametrize(("rate", "channels"), [(1, 1), (4000, 1), (16000, 0), (16000, 1000)])
def test_wav_headers_outside_the_supported_range_are_refused(rate: int, channels: int) -> None:
    decoder = decoder_for({"type": "file"})
    with pytest.raises(UnsupportedAudio, match="the WAV header declares"):
        decoder.push(wav_header(rate, channels) + bytes(3000))
