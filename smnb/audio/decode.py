"""Audio files and arrays → 16-bit PCM at the rate the session sends.

Every way audio enters smnb ends here: a file is decoded with soundfile
(libsndfile: WAV, FLAC, OGG, MP3, …) and, if libsndfile cannot read it, with
PyAV (FFmpeg: M4A/AAC, MP4, WebM, …); a numpy array is converted from float or
integer samples. The result is resampled with soxr and either mixed down to
mono or kept per channel (for channel diarization).

Everything that can be wrong with the input is found here, *before* a
connection is made, and reported as one :class:`~smnb.exceptions.AudioError`
line naming the file and the problem.

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from smnb.exceptions import AudioError, ConfigError
from smnb.protocol import config

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

SAMPLE_RATE = config.SAMPLE_RATE
"""What smnb sends by default: 16 kHz, the rate of every Speechmatics RT model (defined once,
in :mod:`smnb.protocol.config`)."""

MAX_EXPANSION = 1024
"""Decoded int16 bytes a file may hold per byte of its size. Far above any real codec (a
6 kbit/s Opus file decoded at 48 kHz stereo is ~256×), so only a lying header or a
decompression bomb reaches it."""

Samples = npt.NDArray[np.int16]
"""int16 samples shaped ``(frames, channels)``."""


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """Decoded audio: int16 ``samples`` shaped ``(frames, channels)``."""

    samples: Samples
    sample_rate: int
    name: str

    @property
    def channels(self) -> int:
        """Number of channels (1 after a mix-down)."""
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return float(self.samples.shape[0] / self.sample_rate)


def decode_file(
    path: str | Path, *, sample_rate: int = SAMPLE_RATE, mono: bool = True
) -> DecodedAudio:
    """Decode an audio file to int16 at ``sample_rate``.

    Args:
        path: any file soundfile or PyAV can decode.
        sample_rate: the rate to resample to.
        mono: mix all channels down to one; ``False`` keeps them.

    Raises:
        AudioError: the file is missing, empty, not audio or corrupt, or its header
            declares a rate outside :data:`~smnb.protocol.config.SAMPLE_RATES` or more
            than :data:`~smnb.protocol.config.MAX_FILE_CHANNELS` channels.
    """
    file = check_file(path)
    limit = MAX_EXPANSION * file.stat().st_size
    samples, rate = _read_soundfile(file, limit)
    if samples is None:
        samples, rate = _read_pyav(file, limit)
    if samples.shape[0] == 0:
        raise AudioError(f"{file}: the file holds no audio samples")
    if mono and samples.shape[1] > 1:
        samples = mix_down(samples)
    samples = resample(samples, rate, sample_rate)
    logger.debug(
        "decoded %s: %d Hz × %d ch → %d frames", file, rate, samples.shape[1], len(samples)
    )
    return DecodedAudio(samples, sample_rate, file.name)


def probe_duration(path: str | Path) -> float:
    """Seconds of audio in a file, checking that it really is decodable audio.

    Used for ``audio_format="file"`` (the encoded bytes are sent unchanged, so
    only their length in seconds is needed to time the frames).

    Raises:
        AudioError: as :func:`decode_file`.
    """
    file = check_file(path)
    try:
        import soundfile

        info = soundfile.info(str(file))
        if info.frames > 0 and info.samplerate > 0:
            check_format(file, int(info.samplerate), int(info.channels))
            return float(info.frames / info.samplerate)
    except (RuntimeError, soundfile.SoundFileError):
        pass  # not for libsndfile; FFmpeg may know it
    # Fall back to a full decode: exact and it proves the file is usable.
    return decode_file(file).duration


def array_to_pcm(
    array: Any, sample_rate: int | None, *, target_rate: int = SAMPLE_RATE, mono: bool = True
) -> DecodedAudio:
    """Convert a numpy array of samples to int16 at ``target_rate``.

    Floats are taken as full scale ±1.0 (values beyond are clipped); integer
    types are scaled from their own range. Shape ``(frames,)`` is mono,
    ``(frames, channels)`` is multichannel (soundfile's layout).

    Raises:
        ConfigError: ``sample_rate`` is missing or not a positive integer.
        AudioError: the array is empty, has the wrong shape or holds NaN/inf.
    """
    if sample_rate is None:
        raise ConfigError("sample_rate is required with a numpy array (e.g. sample_rate=16000)")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0:
        raise ConfigError(f"sample_rate must be a positive integer in Hz, not {sample_rate!r}")
    low, high = config.SAMPLE_RATES
    if not low <= sample_rate <= high:
        raise ConfigError(f"sample_rate must be {low}–{high} Hz, not {sample_rate}")
    data = np.asarray(array)
    if data.ndim == 1:
        data = data[:, np.newaxis]
    if data.ndim != 2:
        raise AudioError(f"audio array must be (frames,) or (frames, channels), not {data.shape}")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise AudioError("audio array is empty")
    samples = _to_int16(data)
    if mono and samples.shape[1] > 1:
        samples = mix_down(samples)
    return DecodedAudio(resample(samples, sample_rate, target_rate), target_rate, "array")


def check_file(path: str | Path) -> Path:
    """``path`` as a Path after checking it names a non-empty regular file.

    Raises:
        AudioError: missing, a directory, unreadable or empty.
    """
    file = Path(path).expanduser()
    if not file.exists():
        raise AudioError(f"{file}: no such audio file")
    if file.is_dir():
        raise AudioError(f"{file}: is a directory, not an audio file")
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise AudioError(f"{file}: cannot read ({exc.strerror})") from exc
    if size == 0:
        raise AudioError(f"{file}: the file is empty")
    return file


def check_format(file: Path, rate: int, channels: int) -> None:
    """Refuse a declared rate or channel count outside what smnb decodes, before resampling
    (a header claiming 1 Hz would make a few kilobytes upsample into gigabytes).

    Raises:
        AudioError: naming the file, the declared value and the supported range.
    """
    low, high = config.SAMPLE_RATES
    if not low <= rate <= high:
        raise AudioError(
            f"{file}: the header declares a sample rate of {rate} Hz; "
            f"supported rates are {low}–{high} Hz"
        )
    if not 1 <= channels <= config.MAX_FILE_CHANNELS:
        raise AudioError(
            f"{file}: the header declares {channels} channels; "
            f"supported are 1–{config.MAX_FILE_CHANNELS}"
        )


def mix_down(samples: Samples) -> Samples:
    """Average all channels into one."""
    mixed = samples.astype(np.int32).sum(axis=1) // samples.shape[1]
    out: Samples = mixed.astype(np.int16)[:, np.newaxis]
    return out


def resample(samples: Samples, from_rate: int, to_rate: int) -> Samples:
    """Resample int16 ``(frames, channels)`` with soxr (a no-op at equal rates)."""
    if from_rate == to_rate:
        return np.ascontiguousarray(samples)
    import soxr

    out = soxr.resample(samples, from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(out, dtype=np.int16).reshape(-1, samples.shape[1])


# --- readers ------------------------------------------------------------------


def _read_soundfile(file: Path, limit: int) -> tuple[Samples | None, int]:
    import soundfile

    try:
        info = soundfile.info(str(file))
        # Checked before reading: the header alone sizes soundfile's buffer.
        check_format(file, int(info.samplerate), int(info.channels))
        if info.frames * info.channels * 2 > limit:
            raise AudioError(_too_long(file, info.frames / info.samplerate))
        data, rate = soundfile.read(str(file), dtype="int16", always_2d=True)
    except (RuntimeError, soundfile.SoundFileError) as exc:
        # libsndfile does not know the container (M4A, WebM, …): try FFmpeg.
        logger.debug("soundfile cannot read %s (%s); trying PyAV", file, exc)
        return None, 0
    return np.ascontiguousarray(data, dtype=np.int16), int(rate)


def _too_long(file: Path, seconds: float) -> str:
    return (
        f"{file}: the file claims {seconds:.0f} s of audio, more than its size can hold "
        "(a corrupt header or a decompression bomb)"
    )


def _read_pyav(file: Path, limit: int) -> tuple[Samples, int]:
    import av

    blocks: list[npt.NDArray[np.int16]] = []
    try:
        with av.open(str(file)) as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise AudioError(f"{file}: not an audio file (no audio stream found)")
            # Planar int16 at the stream's own rate and layout; soxr resamples after.
            resampler = av.AudioResampler(format="s16p")
            rate, size = 0, 0
            for packet in container.demux(stream):
                for frame in packet.decode():
                    if not isinstance(frame, av.AudioFrame):
                        continue
                    for out in resampler.resample(frame):
                        rate = out.sample_rate
                        blocks.append(np.asarray(out.to_ndarray(), dtype=np.int16).T)
                        if len(blocks) == 1:  # the first frame tells the rate and layout
                            check_format(file, rate, blocks[0].shape[1])
                        size += blocks[-1].nbytes
                        if size > limit:  # stop before memory does
                            seconds = size / 2 / blocks[-1].shape[1] / max(rate, 1)
                            raise AudioError(_too_long(file, seconds))
            for out in resampler.resample(None):
                blocks.append(np.asarray(out.to_ndarray(), dtype=np.int16).T)
    except av.error.FFmpegError as exc:
        reason = str(getattr(exc, "strerror", None) or exc or type(exc).__name__).splitlines()[0]
        raise AudioError(f"{file}: not a readable audio file ({reason})") from exc
    if not blocks or rate <= 0:
        raise AudioError(f"{file}: the file holds no audio samples")
    channels = max(b.shape[1] for b in blocks)
    blocks = [b for b in blocks if b.shape[1] == channels]  # ignore mid-stream layout changes
    return np.ascontiguousarray(np.concatenate(blocks), dtype=np.int16), rate


def _to_int16(data: npt.NDArray[Any]) -> Samples:
    if data.dtype == np.int16:
        out: Samples = np.ascontiguousarray(data, dtype=np.int16)
        return out
    if np.issubdtype(data.dtype, np.floating):
        if not np.all(np.isfinite(data)):
            raise AudioError("audio array holds NaN or infinite values")
        scaled = np.clip(data.astype(np.float64), -1.0, 1.0) * 32767.0
        return np.ascontiguousarray(np.round(scaled), dtype=np.int16)
    if np.issubdtype(data.dtype, np.unsignedinteger):
        bits = data.dtype.itemsize * 8
        centred = data.astype(np.int64) - (1 << (bits - 1))
        return np.ascontiguousarray(
            centred >> (bits - 16) if bits > 16 else centred << (16 - bits), dtype=np.int16
        )
    if np.issubdtype(data.dtype, np.signedinteger):
        bits = data.dtype.itemsize * 8
        wide = data.astype(np.int64)
        shifted = wide >> (bits - 16) if bits > 16 else wide << (16 - bits)
        return np.ascontiguousarray(shifted, dtype=np.int16)
    raise AudioError(f"audio array must hold numbers, not {data.dtype}")
