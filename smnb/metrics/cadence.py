"""The final cadence: how steadily a server sends ``AddTranscript`` in audio time.

The real service sends an ``AddTranscript`` every ~0.37 s of audio, empty ones (metadata
only, times still advancing) during silence included, each followed at once by an
``AddPartialTranscript`` (the session in ``smnb/samples/chat1.jsonl``). A client that
renders finals as they come sees a steady transcript; one that waits for finals to learn
that a pause was silence sees it within a step.

:func:`final_cadence` measures that from ``(audio_s, message)`` pairs, ``audio_s`` being
the audio position the message belongs to: the audio sent when it arrived (a recording),
or the audio the server had decoded when it sent it (the server's own clock). Steps are
between consecutive ``AddTranscript`` messages; "followed" means the next transcript
message (final or partial) is an ``AddPartialTranscript`` at the same audio position.

Stdlib and numpy only. Must not import asyncio, websockets or smnb.session.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from smnb.metrics.stats import quantile

TRANSCRIPTS = ("AddTranscript", "AddPartialTranscript")

SAME_POSITION = 1e-6
"""Audio seconds within which a partial counts as sent together with the final."""


@dataclass(frozen=True, slots=True)
class Cadence:
    """``AddTranscript`` timing of one session (or several, pooled with ``+``)."""

    steps: tuple[float, ...]
    """Audio seconds between consecutive ``AddTranscript`` messages."""
    finals: int
    empty: int
    """Finals with no results."""
    followed: int
    """Finals followed at once by an ``AddPartialTranscript``."""
    advancing_empty: int
    """Empty finals whose ``metadata.end_time`` is past their ``start_time``."""

    @property
    def median_step(self) -> float:
        return quantile(self.steps, 0.5)

    @property
    def p90_step(self) -> float:
        return quantile(self.steps, 0.9)

    @property
    def empty_share(self) -> float:
        return self.empty / self.finals if self.finals else float("nan")

    @property
    def followed_share(self) -> float:
        return self.followed / self.finals if self.finals else float("nan")

    def __add__(self, other: Cadence) -> Cadence:
        return Cadence(
            self.steps + other.steps,
            self.finals + other.finals,
            self.empty + other.empty,
            self.followed + other.followed,
            self.advancing_empty + other.advancing_empty,
        )


NO_CADENCE = Cadence((), 0, 0, 0, 0)


def final_cadence(messages: Iterable[tuple[float, Mapping[str, Any]]]) -> Cadence:
    """The cadence of one session's messages, in the order they came (see the module doc)."""
    timed = [(t, m) for t, m in messages if m.get("message") in TRANSCRIPTS]
    finals = [(i, t, m) for i, (t, m) in enumerate(timed) if m["message"] == "AddTranscript"]
    steps = tuple(round(b[1] - a[1], 6) for a, b in itertools.pairwise(finals))
    empty = advancing = followed = 0
    for i, t, msg in finals:
        if not msg.get("results"):
            empty += 1
            meta = msg.get("metadata", {})
            advancing += float(meta.get("end_time", 0)) > float(meta.get("start_time", 0))
        if i + 1 < len(timed):
            t_next, nxt = timed[i + 1]
            same = abs(t_next - t) <= SAME_POSITION
            followed += nxt["message"] == "AddPartialTranscript" and same
    return Cadence(steps, len(finals), empty, followed, advancing)
