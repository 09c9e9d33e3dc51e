"""smnb.result.Result and smnb.load: facts, caching, errors, exports, round trips, secrets.

Expected numbers are worked out by hand from tests/fixtures (see its README).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from smnb import tables
from smnb.exceptions import ServerError
from smnb.recorder import Record, Recorder, read_jsonl
from smnb.result import Result
from tests.support.results import TABLES, loaded, loaded_from
from tests.support.table_sessions import Session, fixture, rerecord, transcript, word

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


def test_an_unfinished_log_loaded_from_disk_is_incomplete(tmp_path: Path) -> None:
    lines = fixture("simple").read_text().splitlines()
    (tmp_path / "messages.jsonl").write_text("\n".join(lines[:20]) + "\n" + lines[20][:30])
    r = loaded_from(tmp_path)
    assert (r.state, r.error, len(r.recorder)) == ("incomplete", None, 20)  # torn line skipped


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


# --- export -------------------------------------------------------------------------


# --- display and secrets ---------------------------------------------------------


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
