"""smnb.experiment.stitch: clips stitched into one stream with exactly offset timings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smnb.metrics import Reference


def test_stitch_offsets_timings_exactly(clips: list[Path], tmp_path: Path) -> None:
    from smnb.audio.decode import decode_file
    from smnb.experiment import stitch

    wav = stitch(clips, tmp_path / "long" / "stream", gap_s=1.0, tail_s=5.0, lead_s=0.5)
    first, second = (decode_file(c) for c in clips)
    total = decode_file(wav)
    # 0.5 lead + clip 1 + 1.0 gap + clip 2 + 5.0 tail, to the sample
    expected = round(0.5 * 16000) + len(first.samples) + 16000 + len(second.samples) + 80000
    assert len(total.samples) == expected
    ref = Reference.for_audio(wav)
    a, b = (Reference.for_audio(c) for c in clips)
    assert ref is not None and a is not None and b is not None
    assert ref.text == f"{a.text} {b.text}"
    assert ref.timings is not None and a.timings is not None and b.timings is not None
    assert ref.timings[0].start == pytest.approx(a.timings[0].start + 0.5)
    shift = 0.5 + first.duration + 1.0
    assert ref.timings[len(a.timings)].end == pytest.approx(b.timings[0].end + shift, abs=1e-4)
    # the clip's samples sit where the timings say
    start = round(shift * 16000)
    assert np.array_equal(total.samples[start : start + 100], second.samples[:100])
