"""smnb.tables: columns, dtypes, row counts and hand-computed times and latencies.

Expected values are worked out by hand from the fixtures (see
tests/fixtures/README.md) and from the sessions recorded below; times are
binary fractions, so equality is exact.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from smnb import tables
from smnb.clock import ManualClock
from smnb.recorder import Recorder, jsonl, read_jsonl
from tests.table_sessions import FIXTURES, Session, fixture, punct, transcript, word

NA = pd.NA
NAN = math.nan

# Written from docs/architecture.md, not from the implementation's schema.
EXPECTED_DTYPES = {
    "messages": "i:Int64 t:float64 elapsed_s:float64 direction:category type:category "
    "seq_no:Int64 nbytes:Int64 channel:category audio_start:float64 audio_end:float64 "
    "scheduled_t:float64 payload:object",
    "words": "content:str type:category start_time:float64 end_time:float64 confidence:float64 "
    "speaker:category channel:category is_eos:boolean attaches_to:category received_s:float64 "
    "latency_s:float64 message_i:Int64",
    "partials": "partial_i:Int64 position:Int64 content:str type:category start_time:float64 "
    "end_time:float64 confidence:float64 speaker:category channel:category is_eos:boolean "
    "attaches_to:category received_s:float64 latency_s:float64 message_i:Int64",
    "transcripts": "message_i:Int64 kind:category received_s:float64 start_time:float64 "
    "end_time:float64 transcript:str n_results:Int64 channel:category forced:boolean",
    "utterances": "utterance:Int64 channel:category speaker:category start_time:float64 "
    "end_time:float64 text:str n_words:Int64 received_s:float64 eou_received_s:float64 "
    "ended_by:category",
    "events": "message_i:Int64 received_s:float64 message:category type:category reason:str "
    "code:Int64 channel:category start_time:float64 end_time:float64 payload:object",
    "audio": "seq_no:Int64 channel:category nbytes:Int64 audio_start:float64 audio_end:float64 "
    "scheduled_s:float64 sent_s:float64 acked_s:float64 pacing_error_s:float64",
}
TEXT_DTYPE = "str" if int(pd.__version__.split(".")[0]) >= 3 else "object"


def expected_dtypes(name: str) -> dict[str, str]:
    pairs = (item.split(":") for item in EXPECTED_DTYPES[name].split())
    return {col: (TEXT_DTYPE if dt == "str" else dt) for col, dt in pairs}


def dtypes(df: pd.DataFrame) -> dict[str, str]:
    return {col: str(dt) for col, dt in df.dtypes.items()}


def values(series: pd.Series) -> list[object]:
    """Plain Python values with every missing marker as None (for list equality)."""
    return [None if pd.isna(v) else v for v in series.astype(object)]


# --- shapes -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED_DTYPES))
def test_an_empty_session_gives_empty_frames_with_every_column_typed(name: str) -> None:
    df = getattr(tables, name)(Recorder(ManualClock()))
    assert len(df) == 0
    assert dtypes(df) == expected_dtypes(name)


@pytest.mark.parametrize("name", sorted(EXPECTED_DTYPES))
@pytest.mark.parametrize("session", ["simple", "diarized", "two_channels", "server_error"])
def test_fixture_tables_have_the_documented_columns(name: str, session: str) -> None:
    df = getattr(tables, name)(read_jsonl(fixture(session)))
    assert dtypes(df) == expected_dtypes(name)


def test_a_recorder_and_its_records_give_the_same_tables() -> None:
    rec = read_jsonl(fixture("simple"))
    from_recorder, from_list = tables.all_tables(rec), tables.all_tables(list(rec.records))
    for name, df in from_recorder.items():
        pd.testing.assert_frame_equal(df, from_list[name])
    assert set(from_recorder) == set(EXPECTED_DTYPES)


def test_audio_origin_is_the_first_frames_schedule_minus_its_audio_end() -> None:
    assert tables.audio_origin(Recorder(ManualClock())) is None
    s = Session()
    s.audio(2.0, 1, 0.0, 0.25, due=1.75)  # sent late: t0 uses the schedule, not the send
    s.audio(2.0, 2, 0.25, 0.5, due=1.5)
    assert tables.audio_origin(s.recorder) == 1.5
    assert tables.audio_origin(read_jsonl(fixture("diarized"))) == 0.5


def test_without_audio_relative_times_are_nan_not_guesses() -> None:
    s = Session()
    s.recv(0.5, {"message": "Error", "type": "not_authorised", "reason": "bad key"})
    ev = tables.events(s.recorder)
    assert ev["message"].tolist() == ["Error"] and math.isnan(ev["received_s"][0])
    assert tables.messages(s.recorder)["elapsed_s"].isna().all()


# --- the simple fixture: t0 = 1.25 - 0.25 = 1.0 ------------------------------------


@pytest.fixture
def simple() -> Recorder:
    return read_jsonl(fixture("simple"))


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


def test_events_and_audio_of_the_simple_session(simple: Recorder) -> None:
    ev = tables.events(simple)
    assert ev["message"].tolist() == ["Info", "EndOfUtterance"]
    assert values(ev["type"]) == ["recognition_quality", None]
    assert ev["received_s"].tolist() == [-0.5, 2.25]  # Info came before sample 0 was spoken
    assert values(ev["end_time"]) == [None, 2.0]
    assert ev["payload"][0]["quality"] == "broadcast"

    a = tables.audio(simple)
    assert a["seq_no"].tolist() == list(range(1, 9))
    assert a["scheduled_s"].tolist() == [0.25 * k for k in range(1, 9)]
    assert a["acked_s"].tolist() == [0.25 * k + 0.0625 for k in range(1, 9)]
    assert a["pacing_error_s"].tolist() == [0, 0, 0.015625, 0, 0, 0, 0, 0]
    assert a["sent_s"][2] == 0.765625
    assert a["nbytes"].sum() == 64000


def test_messages_is_the_whole_log(simple: Recorder) -> None:
    m = tables.messages(simple)
    assert len(m) == 33 and m["i"].tolist() == list(range(33))
    assert (m["elapsed_s"] == m["t"] - 1.0).all()
    assert m["direction"].value_counts().to_dict() == {"recv": 21, "sent": 10, "meta": 2}
    assert m["payload"][31] == {"message": "EndOfTranscript"}
    assert m["payload"][4] is None and m["audio_end"][4] == 0.25


# --- speakers and channels --------------------------------------------------------


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


def test_two_channels_root_and_per_result_channel_and_per_channel_acks() -> None:
    rec = read_jsonl(fixture("two_channels"))  # t0 = 0.5
    w = tables.words(rec)
    assert w["channel"].tolist() == ["left", "left", "right", "right"]  # root, then results[]
    assert w["latency_s"].tolist() == [1.25, 1.25, 1.375, 1.375]
    a = tables.audio(rec)
    assert a["channel"].tolist() == ["left", "right", "left", "right"]
    assert values(a["acked_s"]) == [0.625, 0.6875, 1.125, None]  # right #2 was never acked
    assert a["pacing_error_s"].tolist() == [0, 0, 0, 0.015625]
    u = tables.utterances(rec)
    assert list(zip(u["channel"], u["text"], strict=True)) == [("left", "Yes."), ("right", "No.")]
    assert values(u["eou_received_s"]) == [1.875, None]
    assert tables.events(rec)["channel"].tolist() == ["left"]
    assert tables.transcripts(rec)["channel"].tolist() == ["left", "right"]
    assert tables.text(rec) == "left: Yes.\nright: No."


def test_interleaved_channels_do_not_cut_each_others_utterances() -> None:
    s = Session()
    s.audio(0.25, 1, 0.0, 0.25, due=0.25, channel="a")
    s.recv(1.0, transcript("final", 0, 1, [word("one", 0.0, 0.25)], channel="a"))
    s.recv(1.0, transcript("final", 0, 1, [word("uno", 0.0, 0.25)], channel="b"))
    s.recv(1.5, transcript("final", 1, 2, [word("two", 0.5, 0.75), punct(".", 0.75)], channel="a"))
    u = tables.utterances(s.recorder)
    assert list(zip(u["channel"], u["text"], strict=True)) == [("a", "one two."), ("b", "uno")]
    assert u["ended_by"].tolist() == ["eos", "end"]


# --- a realistic recorded session ---------------------------------------------------


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


def test_utterances_and_text_of_a_revised_session(revised: Recorder) -> None:
    u = tables.utterances(revised)
    assert u["text"].tolist() == ["I am 35.", '"Hi-there!']
    assert u["n_words"].tolist() == [3, 2]
    assert u["start_time"].tolist() == [0.25, 1.5] and u["end_time"].tolist() == [1.25, 2.0]
    assert u["received_s"].tolist() == [2.25, 2.5]  # the late full stop counts
    assert values(u["eou_received_s"]) == [2.0, None]
    assert u["ended_by"].tolist() == ["eou", "eos"]
    assert tables.text(revised) == 'I am 35.\n"Hi-there!'  # EndOfUtterance breaks the line


def test_events_of_a_revised_session(revised: Recorder) -> None:
    ev = tables.events(revised)
    assert ev["message"].tolist() == ["EndOfUtterance", "Error"]
    assert ev["received_s"].tolist() == [2.0, 2.625]
    assert values(ev["code"]) == [None, 1003]
    assert values(ev["reason"]) == [None, "bad"]


def test_forced_finals_are_flagged() -> None:
    s = Session()
    msg = transcript("final", 0, 1, [word("go", 0.5, 0.75)])
    s.recv(1.0, {**msg, "forced": True})
    s.recv(1.0, msg)
    assert tables.transcripts(s.recorder)["forced"].tolist() == [True, False]


# --- text joining -------------------------------------------------------------------


def test_join_tokens_follows_attaches_to() -> None:
    tokens = [
        word("a", 0, 1),
        punct(",", 1, eos=False),  # previous
        punct("(", 1, eos=False, attaches="next"),
        word("b", 1, 2),
        punct(")", 2, eos=False, attaches=None),  # missing → previous
        punct("/", 2, eos=False, attaches="both"),
        word("c", 2, 3),
        punct("&", 3, eos=False, attaches="none"),
        word("d", 3, 4),
    ]
    assert tables.join_tokens(tokens) == "a, (b)/c & d"
    assert tables.join_tokens(tokens, "") == "a,(b)/c&d"
    assert tables.join_tokens([punct(".", 0)]) == "."


def test_entity_without_alternatives_uses_its_written_form() -> None:
    entity = {
        "type": "entity",
        "start_time": 0,
        "end_time": 1,
        "written_form": [word("20", 0, 0.5), word("March", 0.5, 1)],
    }
    assert tables.join_tokens([word("on", 0, 0), entity]) == "on 20 March"


def test_word_delimiter_comes_from_the_language_pack_or_the_language() -> None:
    s = Session(language="ja")
    s.recv(0, transcript("final", 0, 1, [word("今日", 0, 0.5), word("は", 0.5, 1)]))
    assert tables.text(s.recorder) == "今日は"
    s.recv(0, {"message": "RecognitionStarted", "language_pack_info": {"word_delimiter": "_"}})
    assert tables.word_delimiter(s.recorder) == "_"
    assert tables.word_delimiter(read_jsonl(fixture("simple"))) == " "


# --- fixtures are what a Recorder would have written --------------------------------


FIXTURE_LOGS = sorted(FIXTURES.glob("*/messages.jsonl"))


@pytest.mark.parametrize("path", FIXTURE_LOGS, ids=[p.parent.name for p in FIXTURE_LOGS])
def test_fixture_lines_are_canonical_recorder_output(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    times = []
    for n, line in enumerate(lines):
        rec = jsonl.from_line(line)
        assert rec.i == n and jsonl.to_line(rec) == line
        times.append(rec.t)
        if rec.direction == "recv":
            again = Recorder(ManualClock()).record_received(json.loads(line)["payload"], rec.t)
            assert (again.seq_no, again.channel, again.type) == (rec.seq_no, rec.channel, rec.type)
    assert times == sorted(times)


# --- speed ------------------------------------------------------------------------------


def test_twenty_minutes_of_messages_build_quickly() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import tables_bench
    finally:
        sys.path.pop(0)
    steps = tables_bench.script_session(1200.0)
    clock = ManualClock()
    rec = Recorder(clock)
    tables_bench.replay(steps, rec, clock)
    assert len(rec) > 25_000
    start = time.perf_counter()
    built = tables.all_tables(rec)
    elapsed = time.perf_counter() - start
    assert len(built["audio"]) == 12_000 and len(built["words"]) > 2_000
    assert elapsed < 3.0, f"all tables took {elapsed:.2f} s for 20 minutes"  # ~0.15 s typical


def test_malformed_items_become_missing_values_not_crashes() -> None:
    s = Session()
    s.audio(0.25, 1, 0.0, 0.25, due=0.25)
    odd = {
        "message": "AddTranscript",
        "metadata": "not a dict",
        "results": [
            {"type": "word", "start_time": "0.5", "end_time": True, "alternatives": []},
            "not a result",
            {"type": "word", "start_time": 0.5, "end_time": 0.75, "alternatives": [{}]},
        ],
    }
    s.recv(1.0, odd)
    s.recv(1.0, {"message": "AddPartialTranscript", "results": None})
    s.recv(1.0, {"message": "EndOfUtterance", "metadata": None, "channel": 3})
    w = tables.words(s.recorder)
    assert len(w) == 2 and values(w["start_time"]) == [None, 0.5]
    assert values(w["end_time"]) == [None, 0.75] and w["content"].isna().all()
    assert w["latency_s"].tolist()[1] == 0.25
    tr = tables.transcripts(s.recorder)
    assert tr["n_results"].tolist() == [2, 0] and tr["transcript"].isna().all()
    assert tables.events(s.recorder)["channel"].isna().all()
    assert tables.utterances(s.recorder)["n_words"].tolist() == [2]
    assert tables.text(s.recorder) == ""
