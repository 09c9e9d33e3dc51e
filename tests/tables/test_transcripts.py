"""smnb.tables.transcripts: the words, partials and transcripts tables.

Expected values are worked out by hand from the fixtures (see
tests/fixtures/README.md) and from the sessions recorded in
tests/tables/conftest.py; times are binary fractions, so equality is exact.
"""

from __future__ import annotations

from pathlib import Path

from smnb import tables
from smnb.recorder import Recorder, read_jsonl
from smnb.tables.columns import is_timed
from tests.support.table_sessions import Session, fixture, transcript, values, word


def test_words_of_the_simple_session(simple: Recorder) -> None:
    w = tables.words(simple)
    assert w["content"].tolist() == ["Hello", "world", ".", "How", "are", "you", "?"]
    assert w["type"].tolist() == ["word"] * 2 + ["punctuation"] + ["word"] * 3 + ["punctuation"]
    # finals arrive at t = 2.375, 2.625 (the late full stop) and 3.125
    assert w["received_s"].tolist() == [1.375, 1.375, 1.625, 2.125, 2.125, 2.125, 2.125]
    assert w["latency_s"].tolist() == [0.875, 0.625, 0.875, 0.875, 0.625, 0.375, 0.375]
    assert w["confidence"].tolist() == [0.96, 0.875, 1.0, 1.0, 0.75, 0.5, 1.0]
    assert values(w["is_eos"]) == [None, None, True, None, None, None, True]
    assert values(w["attaches_to"]) == [None, None, "previous", None, None, None, "previous"]
    assert w["message_i"].tolist() == [16, 16, 20, 27, 27, 27, 27]
    assert w["speaker"].isna().all() and w["channel"].isna().all()


def test_partials_of_the_simple_session(simple: Recorder) -> None:
    p = tables.partials(simple)
    # five partials (i 10, 13, 17, 21, 28); 17 and 28 are empty and give no rows
    assert p["partial_i"].tolist() == [0, 1, 1, 3, 3]
    assert p["position"].tolist() == [0, 0, 1, 0, 1]
    assert p["content"].tolist() == ["Hullo", "Hello", "world", "How", "are"]
    assert p["received_s"].tolist() == [0.875, 1.125, 1.125, 1.625, 1.625]
    assert p["latency_s"].tolist() == [0.375, 0.625, 0.375, 0.375, 0.125]
    assert p["message_i"].tolist() == [10, 13, 13, 21, 21]


def test_transcripts_keep_empty_messages(simple: Recorder) -> None:
    tr = tables.transcripts(simple)
    assert tr["message_i"].tolist() == [10, 13, 16, 17, 20, 21, 27, 28, 29]
    assert tr["kind"].tolist() == [
        "partial",
        "partial",
        "final",
        "partial",
        "final",
        "partial",
        "final",
        "partial",
        "final",
    ]
    assert tr["n_results"].tolist() == [1, 2, 2, 0, 1, 2, 4, 0, 0]
    assert tr["transcript"].tolist()[2] == "Hello world "
    assert tr["received_s"].tolist() == [
        0.875,
        1.125,
        1.375,
        1.375,
        1.625,
        1.625,
        2.125,
        2.125,
        2.1875,
    ]
    assert tr["start_time"].tolist()[4] == 0.75 and tr["end_time"].tolist()[8] == 2.0
    assert not tr["forced"].any()


def test_words_of_a_revised_session(revised: Recorder) -> None:
    w = tables.words(revised)
    assert w["content"].tolist() == ["I", "am", "35", ".", '"', "Hi", "-", "there", "!"]
    assert w["type"].tolist()[:4] == ["word", "word", "entity", "punctuation"]
    # finals at t = 2.25, 2.75, 3.0 → received 1.75, 2.25, 2.5
    assert w["latency_s"].tolist() == [1.25, 1.0, 0.5, 1.0, 1.0, 0.75, 0.75, 0.5, 0.5]
    assert w["confidence"].tolist()[:3] == [0.9375, 1.0, 0.75]


def test_partials_of_a_revised_session(revised: Recorder) -> None:
    p = tables.partials(revised)
    assert p["partial_i"].tolist() == [0, 1, 1, 1, 2, 2, 2]
    assert p["position"].tolist() == [0, 0, 1, 2, 0, 1, 2]
    assert p["content"].tolist() == ["I", "I", "am", "third", "I", "am", "30"]
    assert p["latency_s"].tolist() == [0.5, 0.75, 0.5, 0.25, 1.0, 0.75, 0.25]
    kinds = tables.transcripts(revised)["kind"].tolist()
    assert kinds == ["partial"] * 3 + ["final", "partial", "final", "final"]


def test_forced_finals_are_flagged() -> None:
    s = Session()
    msg = transcript("final", 0, 1, [word("go", 0.5, 0.75)])
    s.recv(1.0, {**msg, "forced": True})
    s.recv(1.0, msg)
    assert tables.transcripts(s.recorder)["forced"].tolist() == [True, False]


def test_no_latency_when_the_audio_went_faster_than_real_time(
    simple: Recorder, tmp_path: Path
) -> None:
    # The same log with its Session note saying pace "fast": arrival times stay, latency goes.
    text = fixture("simple").read_text(encoding="utf-8")
    assert '"pace":"realtime"' in text
    (tmp_path / "messages.jsonl").write_text(text.replace('"pace":"realtime"', '"pace":"fast"'))
    fast = read_jsonl(tmp_path / "messages.jsonl")
    timed_words, fast_words = tables.words(simple), tables.words(fast)
    assert fast_words["received_s"].tolist() == timed_words["received_s"].tolist()
    assert timed_words["latency_s"].notna().all()
    assert fast_words["latency_s"].isna().all()
    assert tables.partials(fast)["latency_s"].isna().all()
    assert not is_timed(fast) and is_timed(simple)
