"""Sessions shared by the table tests: the simple fixture and a realistic revised session."""

from __future__ import annotations

import pytest

from smnb.recorder import Recorder, read_jsonl
from tests.support.table_sessions import Session, fixture, punct, transcript, word


@pytest.fixture
def simple() -> Recorder:
    return read_jsonl(fixture("simple"))


@pytest.fixture
def revised() -> Recorder:
    """Partials that revise ("third" → "30" → final entity "35"), a full stop that is
    finalised after EndOfUtterance, attaches_to next/both, then an Error mid-session.

    Frames of 0.25 s, the first scheduled at 0.75: t0 = 0.5.
    """
    s = Session(enable_partials=True, enable_entities=True)
    s.recv(0.25, {"message": "RecognitionStarted", "id": "r"})
    for k in range(1, 9):
        s.audio(0.5 + 0.25 * k, k, 0.25 * (k - 1), 0.25 * k, due=0.5 + 0.25 * k)
        s.recv(0.5 + 0.25 * k + 0.03125, {"message": "AudioAdded", "seq_no": k})
    i_, am = word("I", 0.25, 0.5), word("am", 0.5, 0.75)
    s.recv(1.5, transcript("partial", 0, 0.75, [i_], text="I"))
    s.recv(1.75, transcript("partial", 0, 1.0, [i_, am, word("third", 0.75, 1.0)]))
    s.recv(2.0, transcript("partial", 0, 1.25, [i_, am, word("30", 0.75, 1.25)]))
    entity = {
        "type": "entity",
        "entity_class": "cardinal",
        "start_time": 0.75,
        "end_time": 1.25,
        "alternatives": [{"content": "35", "confidence": 0.75}],
        "spoken_form": [word("thirty", 0.75, 1.0), word("five", 1.0, 1.25)],
        "written_form": [word("35", 0.75, 1.25)],
    }
    final_i = word("I", 0.25, 0.5, confidence=0.9375)
    s.recv(2.25, transcript("final", 0, 1.25, [final_i, am, entity], text="I am 35 "))
    s.recv(2.25, transcript("partial", 1.25, 1.25, []))
    s.recv(2.5, {"message": "EndOfUtterance", "metadata": {"start_time": 1.5, "end_time": 1.5}})
    s.recv(2.75, transcript("final", 1.25, 1.25, [punct(".", 1.25)], text=". "))
    quoted = [
        punct('"', 1.5, eos=False, attaches="next"),
        word("Hi", 1.5, 1.75),
        punct("-", 1.75, eos=False, attaches="both"),
        word("there", 1.75, 2.0),
        punct("!", 2.0),
    ]
    s.recv(3.0, transcript("final", 1.5, 2.0, quoted, text='"Hi-there! '))
    s.recv(3.125, {"message": "Error", "type": "protocol_error", "reason": "bad", "code": 1003})
    s.meta(3.25, "Closed", {"code": 1003, "reason": "protocol_error"})
    return s.recorder
