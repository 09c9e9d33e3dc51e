"""Sweep test helpers: sample clips and a fake session built from reference timings.

The fake session (``run_session=fake_session``) builds a log on a ManualClock from the
clip's reference timings: every final arrives ``max_delay / 2`` after its word ends and
every word is first shown in a partial 0.1 s after it ends, so the expected medians are
known exactly.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import smnb
from smnb.experiment import OK, SessionOutcome, SessionSpec
from smnb.metrics import Reference
from smnb.result import Result
from tests.support.builder import SessionLog

SAMPLES = Path(smnb.__file__).parent / "samples"
CLIPS = ("librivox-ss01-0880", "librivox-ss01-0930")


def fake_log(spec: SessionSpec) -> Result:
    ref = Reference.for_audio(spec.file)
    assert ref is not None and ref.timings is not None
    delay = float(spec.config["max_delay"]) / 2
    words = [(w.word, w.start, w.end) for w in ref.timings]
    events: list[tuple[float, str, int]] = []
    for k, (_, _, end) in enumerate(words):
        events.append((end + 0.1, "partial", k))
        events.append((end + delay, "final", k))
    log = SessionLog(audio_seconds=words[-1][2] + 0.2, pace=spec.pace, **spec.config)
    finalised = 0
    for t, kind, k in sorted(events):
        if kind == "final":
            log.final(t, words[k])
            finalised = k + 1
        else:
            log.partial(t, *words[finalised : k + 1])
    return Result(log.end(words[-1][2] + delay + 0.1), live=False)


async def fake_session(spec: SessionSpec) -> SessionOutcome:
    await asyncio.sleep(0)
    return SessionOutcome(spec, OK, result=fake_log(spec))


def copy_clips(folder: Path) -> list[Path]:
    """The two clips with their .txt and .words.json, copied so nothing touches the package."""
    out = []
    for name in CLIPS:
        for suffix in (".wav", ".txt", ".words.json"):
            shutil.copy(SAMPLES / f"{name}{suffix}", folder / f"{name}{suffix}")
        out.append(folder / f"{name}.wav")
    return out
