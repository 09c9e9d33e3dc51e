"""Containers PyAV (FFmpeg) demuxes, decoded as their bytes arrive, within fixed bounds.

FLAC, OGG (Vorbis/Opus), MP3, M4A/MP4/AAC, AMR, WebM, AIFF…: PyAV needs the file from
its start, so :class:`ContainerDecoder` keeps the bytes received so far and decodes them
again each time they have doubled (so the total work stays linear). Samples are released
once later data can no longer change them (:data:`HOLDBACK_SAMPLES` before the end of
what has arrived is held back until ``finish``).

Bounds, so a file cannot make the server hold more than a few tens of MB whatever it
claims or expands to:

* at most :data:`MAX_CONTAINER_BYTES` are kept (longer audio streams as raw PCM or WAV);
* the stream's declared rate and channels must be supported, checked before decoding
  (:func:`~smnb.server.audio.pcm.check_format`);
* a decoding pass keeps only samples not yet released, at most :data:`MAX_STEP_SAMPLES`
  of them, even from a file that expands a thousandfold (silence compresses well);
  ``finish`` takes as many passes as the rest needs.

Pure computation: no I/O, no asyncio, no websockets, nothing from ``smnb.session``.
"""

from __future__ import annotations

import contextlib
import io

import av
import numpy as np

from smnb.exceptions import UndecodableAudio, UnsupportedAudio
from smnb.server.audio.pcm import EMPTY, AudioDecoder, Floats, check_format, to_int16
from smnb.server.recognizer import SAMPLE_RATE, Samples

FIRST_ATTEMPT_BYTES = 64 * 1024

HOLDBACK_SAMPLES = SAMPLE_RATE // 2
"""The decoded tail of a truncated stream may still change: 0.5 s is held back."""

MAX_CONTAINER_BYTES = 128 * 2**20
"""Bytes of one container file kept for decoding (2 h of 128 kbit/s MP3)."""

MAX_STEP_SAMPLES = 30 * 60 * SAMPLE_RATE
"""Samples one decoding pass keeps (30 min: 58 MB of int16)."""


class ContainerDecoder(AudioDecoder):
    """Any container PyAV (FFmpeg) can demux; see the module docstring."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._next_attempt = FIRST_ATTEMPT_BYTES
        self._emitted = 0

    def push(self, data: bytes) -> Samples:
        if len(self._buf) + len(data) > MAX_CONTAINER_BYTES:
            raise UnsupportedAudio(
                f"a compressed file over {MAX_CONTAINER_BYTES >> 20} MiB cannot be streamed "
                "to this server; send it as raw PCM or WAV, which stream without a limit"
            )
        self._buf += data
        if len(self._buf) < self._next_attempt:
            return EMPTY
        self._next_attempt = 2 * len(self._buf)  # doubling keeps total re-decoding linear
        try:
            decoded, at_end = self._decode()
        except UnsupportedAudio:
            raise
        except UndecodableAudio:
            return EMPTY  # maybe the header is not complete yet; EndOfStream decides
        keep = len(decoded) - HOLDBACK_SAMPLES if at_end else len(decoded)
        return self._release(decoded[: max(0, keep)])

    def finish(self) -> Samples:
        if not self._buf:
            return EMPTY
        parts: list[Samples] = []
        while True:
            decoded, at_end = self._decode()
            parts.append(self._release(decoded))
            if at_end or not len(decoded):
                break
        if self._emitted == 0:
            raise UndecodableAudio("the file holds no decodable audio")
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _release(self, samples: Samples) -> Samples:
        self._emitted += len(samples)
        return samples

    def _decode(self) -> tuple[Samples, bool]:
        """The samples after those released, up to :data:`MAX_STEP_SAMPLES`; and whether
        decoding reached the end of the bytes received."""
        try:
            container = av.open(io.BytesIO(bytes(self._buf)), mode="r")
        except (av.FFmpegError, EOFError, ValueError) as exc:
            raise UndecodableAudio(f"Could not determine type of stream: {exc}") from exc
        with container:
            if not container.streams.audio:
                raise UndecodableAudio("the file has no audio stream")
            stream = container.streams.audio[0]
            if stream.rate:
                check_format(stream.rate, stream.channels or 1, "the file")
            self.input_rate = stream.rate or None
            return _Pass(self._emitted).run(container, stream)


class _Pass:
    """One decoding pass: skips the samples already released, keeps the next ones."""

    def __init__(self, skip: int) -> None:
        self.skip = skip
        self.seen = 0
        self.kept: list[Samples] = []
        self.count = 0

    def run(
        self, container: av.container.InputContainer, stream: av.AudioStream
    ) -> tuple[Samples, bool]:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        checked = bool(stream.rate)
        try:
            for frame in container.decode(stream):
                if not checked:  # no rate in the header: the first frame says it
                    check_format(frame.sample_rate, len(frame.layout.channels), "the file")
                    checked = True
                for out in resampler.resample(frame):
                    self._take(_floats(out))
                if self.count >= MAX_STEP_SAMPLES:
                    return self._samples(), False
        except (av.FFmpegError, EOFError, ValueError):
            pass  # a truncated stream: keep what decoded cleanly
        with contextlib.suppress(av.FFmpegError, ValueError):
            for out in resampler.resample(None):
                self._take(_floats(out))
        return self._samples(), True

    def _take(self, x: Floats) -> None:
        start = max(0, self.skip - self.seen)
        self.seen += len(x)
        if start < len(x):
            self.kept.append(to_int16(x[start:]))
            self.count += len(x) - start

    def _samples(self) -> Samples:
        if not self.kept:
            return EMPTY
        return self.kept[0] if len(self.kept) == 1 else np.concatenate(self.kept)


def _floats(frame: av.AudioFrame) -> Floats:
    return np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)
