"""Stitch short clips into one long-form stream with exact reference timings.

Why: on a clip not much longer than ``max_delay``, the end of the audio (``EndOfStream``)
makes the server finalise every pending word at once, so the measured final latency is
capped by the clip's end instead of by ``max_delay`` (the ``flushed`` column shows it). A
stitched stream — clips separated by known silences, followed by a trailing silence longer
than the largest ``max_delay`` — lets every word be finalised on its own schedule, and keeps
reference timings exact (each clip's timings shifted by its offset).

:func:`stitch` writes ``<name>.wav`` (16 kHz mono int16), ``<name>.txt`` and, when every
clip has word timings, ``<name>.words.json`` next to it: what :func:`smnb.asweep` picks up
as the reference by default.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import json
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from smnb.audio.decode import SAMPLE_RATE, decode_file
from smnb.metrics.reference import Reference


def stitch(
    sources: Sequence[str | Path],
    out: str | Path,
    *,
    gap_s: float = 1.0,
    tail_s: float = 5.0,
    lead_s: float = 0.0,
) -> Path:
    """Concatenate ``sources`` with ``gap_s`` of silence between them; returns the WAV path.

    Args:
        sources: audio files, each with ``<stem>.txt`` and optionally ``<stem>.words.json``.
        out: the WAV file to write (``.txt``/``.words.json`` go beside it).
        gap_s: silence between clips (seconds).
        tail_s: silence after the last clip; make it longer than the largest ``max_delay``
            so no word is finalised by the end of the stream.
        lead_s: silence before the first clip.

    Raises:
        ValueError: a clip has no reference transcript, or a negative silence.
    """
    if min(gap_s, tail_s, lead_s) < 0:
        raise ValueError("silences cannot be negative")
    wav = Path(out).with_suffix(".wav")
    pieces: list[np.ndarray[tuple[int], np.dtype[np.int16]]] = []
    texts: list[str] = []
    timings: list[dict[str, float | str]] | None = []
    offset = lead_s
    pieces.append(_silence(lead_s))
    for k, source in enumerate(sources):
        ref = Reference.for_audio(source)
        if ref is None:
            raise ValueError(f"{source}: no reference transcript (<stem>.txt) beside it")
        audio = decode_file(source, sample_rate=SAMPLE_RATE)
        if k:
            pieces.append(_silence(gap_s))
            offset += gap_s
        pieces.append(audio.samples[:, 0])
        texts.append(ref.text)
        if ref.timings is None or timings is None:
            timings = None
        else:
            timings.extend(
                {
                    "word": w.word,
                    "start": round(w.start + offset, 4),
                    "end": round(w.end + offset, 4),
                }
                for w in ref.timings
            )
        offset += audio.duration
    pieces.append(_silence(tail_s))
    wav.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(wav), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(SAMPLE_RATE)
        fh.writeframes(np.concatenate(pieces).astype("<i2").tobytes())
    wav.with_suffix(".txt").write_text(" ".join(texts) + "\n", encoding="utf-8")
    words = wav.with_suffix(".words.json")
    if timings is not None:
        words.write_text(json.dumps(timings, indent=0) + "\n", encoding="utf-8")
    elif words.exists():
        words.unlink()  # a stale file would pair old timings with new audio
    return wav


def _silence(seconds: float) -> np.ndarray[tuple[int], np.dtype[np.int16]]:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.int16)
