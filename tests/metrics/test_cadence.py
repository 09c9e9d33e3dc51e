"""The final cadence: the recorded SaaS session (smnb/samples/chat1.jsonl), and small
sequences worked out by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import smnb
from smnb.metrics.cadence import NO_CADENCE, final_cadence

SAAS = Path(smnb.__file__).parent / "samples" / "chat1.jsonl"


def final(start: float, end: float, *words: str) -> dict[str, Any]:
    results = [{"type": "word", "alternatives": [{"content": w}]} for w in words]
    return {"message": "AddTranscript", "results": results,
            "metadata": {"start_time": start, "end_time": end}}  # fmt: skip


def partial() -> dict[str, Any]:
    return {"message": "AddPartialTranscript", "results": [], "metadata": {}}


def test_the_recorded_service_session() -> None:
    rows = [json.loads(line) for line in SAAS.read_text(encoding="utf-8").splitlines()]
    cadence = final_cadence((r["audio_ts"], r["payload"]) for r in rows)
    assert cadence.finals == 61 and len(cadence.steps) == 60
    assert cadence.median_step == pytest.approx(0.37)
    # 0.744 with the project's linear quantiles (the recording's README quotes 0.78,
    # another quantile method over the same 60 steps)
    assert cadence.p90_step == pytest.approx(0.744)
    assert (cadence.empty, cadence.advancing_empty) == (18, 18)
    assert cadence.followed == 61


def test_steps_empties_and_followers_by_hand() -> None:
    messages = [
        (0.0, {"message": "AudioAdded", "seq_no": 1}),  # not a transcript: ignored
        (0.36, final(0.0, 0.0)),  # empty, not advancing
        (0.36, partial()),  # followed
        (0.72, final(0.0, 0.36)),  # empty, advancing; followed by a final, not a partial
        (0.9, final(0.36, 0.8, "hello")),
        (0.95, partial()),  # too late to count as following it
        (1.3, final(0.8, 1.1)),  # the last message: nothing follows
    ]
    cadence = final_cadence(messages)
    assert cadence.steps == (0.36, 0.18, 0.4)
    assert (cadence.finals, cadence.empty, cadence.advancing_empty, cadence.followed) == (
        4, 3, 2, 1,
    )  # fmt: skip
    assert cadence.empty_share == 0.75 and cadence.followed_share == 0.25
    both = cadence + cadence
    assert both.finals == 8 and both.steps == cadence.steps * 2
    assert both.median_step == cadence.median_step


def test_no_finals() -> None:
    assert final_cadence([(0.5, partial())]) == NO_CADENCE
    assert math.isnan(NO_CADENCE.median_step) and math.isnan(NO_CADENCE.empty_share)
