"""Result.to_csv / to_parquet (smnb.result.export): every table, the log, the summary.

Expected numbers are worked out by hand from tests/fixtures (see its README).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from smnb.result import Result
from smnb.result.load import load
from tests.support.results import EXPORTED, loaded, loaded_from
from tests.support.table_sessions import fixture


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


# --- a server echoing the key -----------------------------------------------------------

KEYS = [
    "sk!odd$chars%20:&x=0123#TAIL",
    "clé-ñ-ü-ß-µ-0123456789",  # latin-1: what an HTTP header carries
    "q'uo\"te\\back`slash-0123",
]


@pytest.mark.parametrize("key", KEYS, ids=["punctuation", "unicode", "quotes"])
async def test_a_key_echoed_by_the_server_reaches_no_table_export_or_error(
    tmp_path: Path, key: str
) -> None:
    import smnb
    from smnb.exceptions import ServerError
    from tests.support.client import injecting_proxy, tone_server, tone_wav

    wav = tone_wav(tmp_path / "tones.wav")
    echo = json.dumps(
        {"message": "Error", "type": "not_authorised", "reason": f"key {key} is\ninvalid"}
    )
    async with (
        tone_server() as upstream,
        injecting_proxy(upstream, "RecognitionStarted", echo) as url,
    ):
        with pytest.raises(ServerError) as caught:
            await smnb.atranscribe(wav, url=url, api_key=key, pace="fast")
    error, r = caught.value, caught.value.result
    assert error.reason == "key <redacted> is invalid"  # scrubbed, one line
    assert str(error).startswith("server error not_authorised: key <redacted> is invalid")
    assert isinstance(r, Result)
    assert r.events["reason"].iloc[-1] == "key <redacted> is\ninvalid"  # tables keep it whole
    for name in ("events", "messages", "connections"):
        assert key not in getattr(r, name).to_string()
    assert key not in repr(r.problems) and key not in repr(r.summary())
    written = [r.to_csv(tmp_path / "csv")]
    if "pyarrow" in sys.modules or _has_pyarrow():
        written.append(r.to_parquet(tmp_path / "pq"))
    for out in written:
        for path in out.iterdir():
            data = path.read_bytes()
            for form in (key, json.dumps(key)[1:-1], key.encode().decode("latin-1")):
                assert form.encode() not in data, path.name
    events = pd.read_csv(tmp_path / "csv" / "events.csv")
    assert events["reason"].iloc[-1] == "key <redacted> is\ninvalid"


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True
