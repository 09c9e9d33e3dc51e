"""Two hand-built sessions whose every metric is worked out by hand in the tests.

Scenario A ("he was not a young man", max_delay 1.0). ``t0 = 0``, so times are
``received_s``. Engine word times equal the reference except ``was`` (reference end
0.55, engine end 0.60), so the two anchors give different numbers.

=====  =======================================  ============================
t (s)  message                                  notes
=====  =======================================  ============================
0.50   partial  he                              first partial
0.80   partial  he wash                         "wash": later revised
1.20   partial  he was not
1.40   FINAL    He was                          slots 0, 1
1.45   partial  not
2.00   FINAL    knot young .                    slots 2, 3; "not" → "knot"
2.05   partial  man
2.30   partial  man today
2.50   EndOfStream sent (the audio has ended)
2.60   FINAL    man today                       slots 4, 5 ("today" inserted), flushed
2.65   partial  (empty)
2.90   EndOfUtterance (audio 2.2)
3.00   EndOfTranscript
=====  =======================================  ============================

Final words: he was knot young man today. Against the reference: he, was equal; not →
knot substituted; a deleted; young, man equal; today inserted (S = D = I = 1, N = 6).

Scenario B ("hello world", max_delay 1.0): partial ``hello`` at 0.7, one final
``hello world`` at 1.0; reference hello 0.2–0.5, world 0.5–0.9.
"""

from __future__ import annotations

from smnb.metrics.reference import Reference, RefWord
from smnb.recorder import Recorder
from tests.support.builder import SessionLog

REF_A = Reference(
    "He was not a young man.",
    (
        RefWord("he", 0.1, 0.3),
        RefWord("was", 0.3, 0.55),
        RefWord("not", 0.6, 1.0),
        RefWord("a", 1.0, 1.1),
        RefWord("young", 1.1, 1.4),
        RefWord("man", 1.4, 1.8),
    ),
    name="a",
)

REF_B = Reference("hello world", (RefWord("hello", 0.2, 0.5), RefWord("world", 0.5, 0.9)), "b")


def scenario_a(max_delay: float | None = 1.0, *, pace: str | None = None) -> Recorder:
    """``max_delay=None`` leaves it out of StartRecognition (the API's default applies)."""
    config = {} if max_delay is None else {"max_delay": max_delay}
    s = SessionLog(audio_seconds=2.5, pace=pace, **config)
    he, was, knot = ("he", 0.1, 0.3), ("was", 0.3, 0.6), ("knot", 0.6, 1.0)
    s.partial(0.5, he)
    s.partial(0.8, he, ("wash", 0.3, 0.6))
    s.partial(1.2, he, was, ("not", 0.6, 1.0))
    s.final(1.4, ("He", 0.1, 0.3), was)
    s.partial(1.45, ("not", 0.6, 1.0))
    s.final(2.0, knot, ("young", 1.1, 1.4), punct=((".", 1.4, 1.4),))
    s.partial(2.05, ("man", 1.4, 1.8))
    s.partial(2.3, ("man", 1.4, 1.8), ("today", 1.9, 2.2))
    s.end_of_stream(2.5)
    s.final(2.6, ("man", 1.4, 1.8), ("today", 1.9, 2.2))
    s.partial(2.65)
    s.eou(2.9, 2.2)
    return s.end(3.0)


def scenario_b(max_delay: float = 1.0) -> Recorder:
    s = SessionLog(audio_seconds=1.0, max_delay=max_delay)
    s.partial(0.7, ("hello", 0.2, 0.5))
    s.final(1.0, ("hello", 0.2, 0.5), ("world", 0.5, 0.9))
    return s.end(1.1)
