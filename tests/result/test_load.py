"""smnb.load (smnb.result.load): one Result per log or session directory, Results per sweep.

Expected numbers are worked out by hand from tests/fixtures (see its README).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from smnb.exceptions import LogError, LogNotFound
from smnb.recorder import JsonlWriter
from smnb.result import Result
from smnb.result.load import load
from tests.support.results import TABLES, loaded_from
from tests.support.table_sessions import Session, fixture, punct, transcript, word


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
    with pytest.raises(LogNotFound, match=r"no messages\.jsonl in .* or its subdirectories"):
        load(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no such file or directory: .*nope\.jsonl"):
        load(tmp_path / "nope.jsonl")  # LogNotFound is a FileNotFoundError too


SAMPLES = Path(__file__).resolve().parents[2] / "smnb" / "samples"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(
    ("path", "why"),
    [
        (SAMPLES / "cards-001.wav", "not UTF-8 text"),
        (README, "its first line is not a JSON record"),
    ],
)
def test_a_file_that_is_no_log_is_one_clear_error(
    path: Path, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(LogError) as caught:
        load(path)
    assert str(caught.value) == f"{path} is not an smnb log or a SaaS recording ({why})"
    assert not caught.value.__cause__ and not caught.value.__context__
    assert caplog.text == "", "one error, no warning per line"


def test_smnb_load_is_the_function_even_after_its_module_is_imported() -> None:
    code = (
        "import smnb, smnb.result.load\n"
        "from smnb.result.load import load_file\n"
        f"print(smnb.load({str(fixture('simple'))!r}).session_id)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "sess-simple"


def test_a_real_session_saved_and_loaded_gives_identical_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import smnb

    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)  # the embedded local server
    monkeypatch.delenv("SPEECHMATICS_RT_URL", raising=False)
    clip = SAMPLES / "librivox-ss01-0880.wav"  # 3 s of speech
    live = smnb.transcribe(clip, pace="fast", timeout=120, out=tmp_path / "out")
    assert live.completed and len(live.words) and len(live.partials)
    exported = live.to_csv(tmp_path / "csv")
    for path in (tmp_path / "out", exported):
        back = loaded_from(path)
        for name in TABLES:  # exactly: every time is written in full
            pd.testing.assert_frame_equal(
                getattr(back, name), getattr(live, name), check_exact=True
            )
        assert back.summary() == live.summary()
