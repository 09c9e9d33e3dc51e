"""smnb.tables.utterances: utterances, the session's plain text and its word delimiter.

Expected values are worked out by hand from the fixtures (see
tests/fixtures/README.md) and from the sessions recorded in
tests/tables/conftest.py; times are binary fractions, so equality is exact.
"""

from __future__ import annotations

import io

from smnb import tables
from smnb.cli.transcribe import _LiveLine
from smnb.recorder import Recorder, read_jsonl
from smnb.widgets.state import TranscriptState
from tests.support.table_sessions import Session, fixture, punct, transcript, values, word


def test_utterances_join_late_punctuation_and_take_the_end_of_utterance(simple: Recorder) -> None:
    u = tables.utterances(simple)
    assert u["text"].tolist() == ["Hello world.", "How are you?"]
    assert u["n_words"].tolist() == [2, 3]
    assert u["start_time"].tolist() == [0.25, 1.0]
    assert u["end_time"].tolist() == [0.75, 1.75]
    assert u["received_s"].tolist() == [1.625, 2.125]  # when the last token arrived
    assert values(u["eou_received_s"]) == [None, 2.25]  # EndOfUtterance at t = 3.25
    assert u["ended_by"].tolist() == ["eos", "eos"]
    assert tables.text(simple) == "Hello world. How are you?"


def test_speakers_split_utterances_and_prefix_the_text() -> None:
    rec = read_jsonl(fixture("diarized"))  # t0 = 1.0 - 0.5 = 0.5
    w = tables.words(rec)
    assert w["speaker"].tolist() == ["S1", "S1", "S1", "S2", "S1"]
    assert w["latency_s"].tolist() == [1.25, 1.0, 1.0, 1.0, 0.75]
    u = tables.utterances(rec)
    assert u["text"].tolist() == ["Hi there.", "Hello", "you"]
    assert u["speaker"].tolist() == ["S1", "S2", "S1"]
    assert u["ended_by"].tolist() == ["eos", "speaker", "eou"]
    assert values(u["eou_received_s"]) == [None, None, 2.75]
    assert tables.text(rec) == "S1: Hi there.\nS2: Hello\nS1: you"


def test_interleaved_channels_do_not_cut_each_others_utterances() -> None:
    s = Session()
    s.audio(0.25, 1, 0.0, 0.25, due=0.25, channel="a")
    s.recv(1.0, transcript("final", 0, 1, [word("one", 0.0, 0.25)], channel="a"))
    s.recv(1.0, transcript("final", 0, 1, [word("uno", 0.0, 0.25)], channel="b"))
    s.recv(1.5, transcript("final", 1, 2, [word("two", 0.5, 0.75), punct(".", 0.75)], channel="a"))
    u = tables.utterances(s.recorder)
    assert list(zip(u["channel"], u["text"], strict=True)) == [("a", "one two."), ("b", "uno")]
    assert u["ended_by"].tolist() == ["eos", "end"]


def test_utterances_and_text_of_a_revised_session(revised: Recorder) -> None:
    u = tables.utterances(revised)
    assert u["text"].tolist() == ["I am 35.", '"Hi-there!']
    assert u["n_words"].tolist() == [3, 2]
    assert u["start_time"].tolist() == [0.25, 1.5] and u["end_time"].tolist() == [1.25, 2.0]
    assert u["received_s"].tolist() == [2.25, 2.5]  # the late full stop counts
    assert values(u["eou_received_s"]) == [2.0, None]
    assert u["ended_by"].tolist() == ["eou", "eos"]
    assert tables.text(revised) == 'I am 35.\n"Hi-there!'  # EndOfUtterance breaks the line


# --- one text model everywhere (smnb.protocol.text) -----------------------------------


def test_word_delimiter_comes_from_the_language_pack_or_the_language() -> None:
    s = Session(language="ja")
    s.recv(0, transcript("final", 0, 1, [word("今日", 0, 0.5), word("は", 0.5, 1)]))
    assert tables.text(s.recorder) == "今日は"
    s.recv(0, {"message": "RecognitionStarted", "language_pack_info": {"word_delimiter": "_"}})
    assert tables.word_delimiter(s.recorder) == "_"
    assert tables.word_delimiter(read_jsonl(fixture("simple"))) == " "


def _recorded(*messages: dict[str, object]) -> Session:
    s = Session()
    s.recv(0.0, {"message": "RecognitionStarted", "language_pack_info": {"word_delimiter": " "}})
    for k, msg in enumerate(messages):
        s.recv(1.0 + k, msg)
    return s


def test_the_table_the_widget_and_the_cli_render_the_same_text() -> None:
    # One model, three views: the tables' text, the live widget's finals and the
    # CLI's running line must agree on joining and spacing across messages.
    s = _recorded(
        transcript("final", 0, 1, [punct("¿", 0, eos=False, attaches="next"), word("Qué", 0, 1)]),
        transcript("final", 1, 2, [word("tal", 1, 2), punct("?", 2)]),
        transcript(
            "final", 2, 3, [word("rock", 2, 2.5), punct("-", 2.5, eos=False, attaches="both")]
        ),
        transcript(
            "final",
            3,
            4,
            [word("n", 3, 3.5), punct("'", 3.5, eos=False, attaches="both"), word("roll", 3.5, 4)],
        ),
    )
    expected = "¿Qué tal? rock-n'roll"
    assert tables.text(s.recorder) == expected

    state = TranscriptState()
    for rec in s.recorder.snapshot():
        state.apply(rec)
    assert state.final_text() == expected

    out = io.StringIO()
    line = _LiveLine(out)
    for rec in s.recorder.snapshot():
        line(rec)
    assert out.getvalue().rsplit("\r\x1b[K", 1)[-1] == expected


def test_the_widget_and_the_cli_use_the_announced_word_delimiter() -> None:
    s = Session(language="ja")
    s.recv(0.0, {"message": "RecognitionStarted", "language_pack_info": {"word_delimiter": ""}})
    s.recv(1.0, transcript("final", 0, 1, [word("今日", 0, 0.5), word("は", 0.5, 1)]))
    s.recv(1.5, transcript("partial", 1, 2, [word("晴れ", 1, 2)]))
    state = TranscriptState()
    out = io.StringIO()
    line = _LiveLine(out)
    for rec in s.recorder.snapshot():
        state.apply(rec)
        line(rec)
    assert (state.final_text(), state.partial_text()) == ("今日は", "晴れ")
    assert out.getvalue().rsplit("\r\x1b[K", 1)[-1] == "今日は晴れ"
    assert tables.text(s.recorder) == "今日は"
