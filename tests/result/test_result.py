"""smnb.result.Result and smnb.load: facts, caching, errors, exports, round trips, secrets.

Expected numbers are worked out by hand from tests/fixtures (see its README).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from smnb import tables
from smnb.exceptions import ConnectionLost, ServerError, SessionTimeout
from smnb.loading import load
from smnb.recorder import JsonlWriter, Record, Recorder, read_jsonl
from smnb.result import Result
from tests.table_sessions import Session, fixture, punct, rerecord, transcript, word

TABLES = ["messages", "words", "partials", "transcripts", "utterances", "events", "audio"]
EXPORTED = ["words", "partials", "transcripts", "utterances", "events", "audio"]


def loaded(name: str) -> Result:
    result = load(fixture(name))
    assert isinstance(result, Result)
    return result


# --- facts --------------------------------------------------------------------------


def test_a_completed_session() -> None:
    r = loaded("simple")
    assert (r.session_id, r.completed, r.error, r.state) == ("sess-simple", True, None, "completed")
    assert (r.source, r.url) == ("hello.wav", "ws://127.0.0.1:8765/v2")
    assert r.config is not None and r.config["transcription_config"]["max_delay"] == 1.0
    assert r.audio_seconds == 2.0
    assert r.text == "Hello world. How are you?"
    # word latencies 0.875, 0.625, 0.875, 0.625, 0.375 (punctuation excluded)
    assert r.final_latency(0.5) == 0.625
    assert r.final_latency(0.95) == 0.875
    assert r.info["type"].tolist() == ["recognition_quality"]
    assert len(r.warnings) == 0 and len(r.errors) == 0
    assert r.events["message"].tolist() == ["Info", "EndOfUtterance"]


def test_every_table_property_matches_the_table_function() -> None:
    r = loaded("diarized")
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(r, name), getattr(tables, name)(r.recorder))


def test_summary_counts_and_latency() -> None:
    s = loaded("simple").summary()
    assert s["counts"] == {
        "records": 33,
        "partials": 5,
        "finals": 4,
        "words": 5,
        "punctuation": 2,
        "utterances": 2,
        "audio_frames": 8,
        "info": 1,
        "warnings": 0,
        "errors": 0,
    }
    assert s["final_latency_s"] == {"n": 5, "p50": 0.625, "p95": 0.875}
    assert (s["session_id"], s["state"], s["completed"], s["error"]) == (
        "sess-simple",
        "completed",
        True,
        None,
    )
    assert s["audio_seconds"] == 2.0 and s["smnb_version"]
    assert s["session"]["chunk_seconds"] == 0.25
    json.dumps(s, allow_nan=False)  # plain JSON


def test_a_server_error_mid_session() -> None:
    r = loaded("server_error")
    err = r.error
    assert isinstance(err, ServerError)
    assert (err.type, err.reason, err.code) == ("job_error", "Failed to process audio", 4013)
    assert err.result is r
    assert (r.completed, r.state) == (False, "failed")
    assert len(r.words) == 0 and r.text == ""
    assert r.partials["latency_s"].tolist() == [0.375]  # 1.375 − 0.5 − 0.5
    assert r.errors["received_s"].tolist() == [1.125]
    assert r.warnings["type"].tolist() == ["duration_limit_exceeded"]
    assert r.final_latency(0.5) is None
    assert r.summary()["error"]["type"] == "ServerError"
    assert "failed" in repr(r) and "job_error" in repr(r)


def test_errors_are_rebuilt_from_the_log() -> None:
    s = Session()
    r = Result(s.recorder)
    assert (r.state, r.error) == ("running", None)
    s.meta(1.0, "Closed", {"code": 1006, "reason": ""})
    lost = r.error
    assert isinstance(lost, ConnectionLost) and lost.code == 1006 and "1006" in str(lost)
    s.meta(1.0, "ClientError", {"error": "SessionTimeout", "message": "no progress in 5 s"})
    timeout = r.error
    assert isinstance(timeout, SessionTimeout) and str(timeout) == "no progress in 5 s"
    explicit = RuntimeError("set by the transport")
    r.error = explicit
    assert r.error is explicit and r.state == "failed"


def test_an_unfinished_log_loaded_from_disk_is_incomplete(tmp_path: Path) -> None:
    lines = fixture("simple").read_text().splitlines()
    (tmp_path / "messages.jsonl").write_text("\n".join(lines[:20]) + "\n" + lines[20][:30])
    r = loaded_from(tmp_path)
    assert (r.state, r.error, len(r.recorder)) == ("incomplete", None, 20)  # torn line skipped


def loaded_from(path: Path) -> Result:
    result = load(path)
    assert isinstance(result, Result)
    return result


# --- caching and threads ---------------------------------------------------------


def test_tables_are_cached_until_more_records_arrive(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = tables.words

    def counting(records: list[Record]) -> pd.DataFrame:
        calls.append(len(records))
        return real(records)

    monkeypatch.setattr(tables, "words", counting)
    s = Session()
    s.audio(0.25, 1, 0.0, 0.25, due=0.25)
    r = Result(s.recorder)
    first = r.words
    first["mine"] = 1  # a user's edit never reaches the cache
    assert "mine" not in r.words.columns
    assert calls == [3]
    s.recv(1.0, transcript("final", 0, 1, [word("hi", 0.5, 0.75)]))
    assert r.words["latency_s"].tolist() == [0.25]
    assert calls == [3, 4]


def test_reading_while_another_thread_records() -> None:
    source = read_jsonl(fixture("simple")).records
    live = Recorder()
    r = Result(live)
    done = threading.Event()

    def feed() -> None:
        for rec in source:
            rerecord(live, rec)
            time.sleep(0.0005)
        done.set()

    thread = threading.Thread(target=feed)
    thread.start()
    while not done.is_set():
        w, p, u = r.words, r.partials, r.utterances
        assert w.columns[0] == "content" and p.columns[0] == "partial_i"
        assert u.columns[0] == "utterance"
        assert r.text.startswith("Hello") or r.text == ""
    thread.join()
    assert r.text == "Hello world. How are you?"
    pd.testing.assert_frame_equal(r.words, tables.words(source))
    assert r.state == "completed"


# --- load ----------------------------------------------------------------------------


def test_jsonl_round_trip_rebuilds_every_table(tmp_path: Path) -> None:
    s = Session(enable_partials=True)
    path = tmp_path / "run" / "messages.jsonl"
    writer = JsonlWriter(path)
    s.recorder.subscribe(writer, replay=True)
    s.recv(0.125, {"message": "RecognitionStarted", "id": "rt"})
    s.audio(0.5, 1, 0.0, 0.25, due=0.5)  # t0 = 0.25
    s.recv(0.5625, {"message": "AudioAdded", "seq_no": 1})
    s.recv(0.75, transcript("partial", 0, 0.25, [word("Ok", 0.0, 0.25)], text="Ok"))
    s.recv(1.125, transcript("final", 0, 0.25, [word("OK", 0.0, 0.25), punct(".", 0.25)]))
    s.recv(1.25, {"message": "EndOfTranscript"})
    s.meta(1.25, "Closed", {"code": 1000, "reason": ""})
    writer.close()
    live = Result(s.recorder)
    swept = load(tmp_path)  # a directory of session directories gives a list
    assert isinstance(swept, list) and len(swept) == 1
    for r in (load(path), load(path.parent), swept[0]):
        assert isinstance(r, Result) and r.live is False
        for name in TABLES:
            pd.testing.assert_frame_equal(getattr(r, name), getattr(live, name))
        assert (r.text, r.session_id, r.state) == ("OK.", "rt", "completed")
    assert live.words["latency_s"].tolist() == [0.625, 0.625]  # 1.125 − 0.25 − 0.25


def test_load_a_sweep_directory_in_sorted_order(tmp_path: Path) -> None:
    for name in ("b-two_channels", "a-simple/rep-1", "a-simple/rep-0"):
        (tmp_path / name).mkdir(parents=True)
    source = {"b-two_channels": "two_channels", "a-simple/rep-1": "diarized"}
    source["a-simple/rep-0"] = "simple"
    for name, fx in source.items():
        (tmp_path / name / "messages.jsonl").write_bytes(fixture(fx).read_bytes())
    results = load(tmp_path)
    assert isinstance(results, list)
    assert [r.session_id for r in results] == ["sess-simple", "sess-diarized", "sess-stereo"]


def test_load_reports_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no messages\.jsonl"):
        load(tmp_path)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.jsonl")


# --- export -------------------------------------------------------------------------


def test_to_csv_writes_every_table_the_log_and_a_summary(tmp_path: Path) -> None:
    r = loaded("two_channels")
    out = r.to_csv(tmp_path / "csv")
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{n}.csv" for n in EXPORTED] + ["messages.jsonl", "summary.json"])
    words = pd.read_csv(out / "words.csv")
    assert words["content"].tolist() == ["Yes", ".", "No", "."]
    assert words["latency_s"].tolist() == [1.25, 1.25, 1.375, 1.375]
    assert words["channel"].tolist() == ["left", "left", "right", "right"]
    events = pd.read_csv(out / "events.csv")
    assert json.loads(events["payload"][0])["channel"] == "left"  # payloads as JSON text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["words"] == 2 and summary["session_id"] == "sess-stereo"
    assert summary["final_latency_s"]["p50"] == 1.3125  # midway between 1.25 and 1.375
    again = load(out)
    assert isinstance(again, Result)
    pd.testing.assert_frame_equal(again.words, r.words)


def test_to_csv_does_not_rewrite_the_log_it_was_loaded_from(tmp_path: Path) -> None:
    (tmp_path / "messages.jsonl").write_bytes(fixture("simple").read_bytes())
    before = os.stat(tmp_path / "messages.jsonl")
    loaded_from(tmp_path).to_csv(tmp_path)
    after = os.stat(tmp_path / "messages.jsonl")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (tmp_path / "words.csv").exists()


def test_to_parquet_round_trips_dtypes(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    r = loaded("diarized")
    out = r.to_parquet(tmp_path)
    for name in EXPORTED:
        back = pd.read_parquet(out / f"{name}.parquet")
        expected = getattr(r, name)
        if "payload" in expected.columns:
            back["payload"] = [json.loads(v) for v in back["payload"]]
        pd.testing.assert_frame_equal(back, expected, check_categorical=False)
    assert (out / "summary.json").exists() and (out / "messages.jsonl").exists()


def test_to_parquet_without_pyarrow_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"smnb\[parquet\]"):
        loaded("simple").to_parquet(tmp_path)
    assert not any(tmp_path.iterdir())


# --- display and secrets ---------------------------------------------------------


def test_repr_shows_source_state_counts_and_text() -> None:
    text = repr(loaded("simple"))
    for part in ("hello.wav", "completed", "5 in 2 utterances", "p50 0.62 s", "Hello world."):
        assert part in text, part
    html = loaded("diarized")._repr_html_()
    assert "two-speakers.wav" in html and "S1: Hi there." in html


def test_html_escapes_what_the_server_sent() -> None:
    s = Session()
    s.audio(0.25, 1, 0.0, 0.25, due=0.25)
    s.recv(1.0, transcript("final", 0, 1, [word("<script>alert(1)</script>", 0.5, 0.75)]))
    html = Result(s.recorder)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


SECRETS = ("SECRETJWT", "SECRETPW", "SECRETBEARER", "SECRETTOKEN", "SECRETARG")


def test_no_credential_reaches_repr_summary_or_exports(tmp_path: Path) -> None:
    s = Session()
    s.recorder.record_meta(
        "Session",
        {
            "url": "wss://user:SECRETPW@eu2.rt.speechmatics.com/v2?jwt=SECRETJWT&x=1",
            "source": "a.wav",
            "headers": {"Authorization": "Bearer SECRETBEARER"},
        },
    )
    s.recorder.record_sent({"message": "StartRecognition", "auth_token": "SECRETTOKEN"})
    s.audio(0.25, 1, 0.0, 0.25, due=0.25)
    s.meta(0.5, "ClientError", {"error": "AuthError", "message": "got Bearer SECRETBEARER back"})
    r = Result(s.recorder, url="wss://eu2.rt.speechmatics.com/v2?jwt=SECRETARG")
    assert r.url == "wss://eu2.rt.speechmatics.com/v2"
    shown = [repr(r), r._repr_html_(), json.dumps(r.summary()), str(r.config)]
    r.to_csv(tmp_path / "csv")
    pytest.importorskip("pyarrow")
    r.to_parquet(tmp_path / "parquet")
    files = [p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*.*")]
    for text in shown + files:
        for secret in SECRETS:
            assert secret not in text
    assert "eu2.rt.speechmatics.com" in json.dumps(r.summary())  # scrubbed, not dropped


def test_smnb_load_is_the_function_even_after_its_module_is_imported() -> None:
    code = (
        "import smnb, smnb.loading\n"
        "from smnb.loading import load_file\n"
        f"print(smnb.load({str(fixture('simple'))!r}).session_id)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "sess-simple"


def test_an_empty_result_still_shows_and_exports(tmp_path: Path) -> None:
    r = Result(Recorder())
    assert (r.state, r.session_id, r.config, r.audio_seconds, r.text) == (
        "running",
        None,
        None,
        None,
        "",
    )
    assert "running" in repr(r) and "smnb Result" in r._repr_html_()
    r.to_csv(tmp_path)
    assert pd.read_csv(tmp_path / "words.csv").columns.tolist()[:3] == [
        "content",
        "type",
        "start_time",
    ]
    assert json.loads((tmp_path / "summary.json").read_text())["counts"]["records"] == 0
