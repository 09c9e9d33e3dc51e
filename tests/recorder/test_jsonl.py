"""smnb.recorder.jsonl: the one JSONL form of a log, exact round trips, one scrubbing policy."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from smnb.clock import ManualClock
from smnb.exceptions import LogError, LogNotFound
from smnb.recorder import JsonlWriter, Record, Recorder, read_jsonl, write_jsonl
from smnb.recorder.jsonl import from_text, to_line, to_text


def test_jsonl_round_trip_is_exact(tmp_path) -> None:
    clock = ManualClock()
    rec = Recorder(clock)
    writer = JsonlWriter(tmp_path / "s" / "messages.jsonl")
    rec.subscribe(writer)
    rec.record_sent({"message": "StartRecognition", "transcription_config": {"language": "en"}})
    clock.advance(0.1234567)
    rec.record_audio(1, 3200, 0.0, 0.1, scheduled_t=0.1, channel=None)
    rec.record_received({"message": "AddTranscript", "metadata": {"transcript": "héllo "}}, 0.2)
    writer.close()
    rec.record_meta("after close")  # ignored by the closed writer, kept in memory

    back = read_jsonl(tmp_path / "s" / "messages.jsonl")
    assert len(back) == 3
    for original, loaded in zip(rec.records, back.records, strict=False):
        assert to_line(loaded) == to_line(original)
    assert back.records[1].t == rec.records[1].t == 0.1234567  # every digit kept on disk


def test_a_truncated_last_line_is_skipped(tmp_path) -> None:
    path = tmp_path / "messages.jsonl"
    good = to_line(Record(0, 0.0, "meta", "Session"))
    path.write_text(good + "\n" + good[:10], encoding="utf-8")
    assert [r.type for r in read_jsonl(path)] == ["Session"]
    # Cut inside a character (UTF-8 multi-byte) it costs that line only, too.
    last = to_line(Record(1, 0.1, "meta", "Note", {"text": "héllo"})).encode()
    path.write_bytes(good.encode() + b"\n" + last[: last.index("é".encode()) + 1])
    assert [r.type for r in read_jsonl(path)] == ["Session"]


def test_a_file_whose_first_line_is_no_record_is_not_a_log(tmp_path: Path) -> None:
    good = to_line(Record(0, 0.0, "meta", "Session"))
    path = tmp_path / "notes.jsonl"
    path.write_text("\n# a title\n" + good + "\n", encoding="utf-8")
    with pytest.raises(LogError, match=r"notes\.jsonl is not an smnb log .*first line is not a"):
        read_jsonl(path)
    path.write_bytes(b"RIFF\xff\xfe\x00\n" + good.encode())
    with pytest.raises(LogError, match=r"\(not UTF-8 text\)"):
        read_jsonl(path)
    with pytest.raises(LogError, match="a session outcome is not an smnb log"):
        from_text('{"message": "Info"}\n' + good, source="a session outcome")
    with pytest.raises(LogNotFound, match=r"no such file: .*missing\.jsonl"):
        read_jsonl(tmp_path / "missing.jsonl")
    path.write_text("\n \n", encoding="utf-8")
    assert len(read_jsonl(path)) == 0  # an empty log (nothing written yet) is still one


def test_a_line_separator_inside_a_payload_is_no_line_break(tmp_path: Path) -> None:
    # json.dumps(ensure_ascii=False) leaves U+2028 unescaped; only \n ends a JSONL line.
    rec = Record(0, 0.0, "meta", "Note", {"text": "a\u2028b\x1cc"})
    assert [r.payload for r in from_text(to_line(rec) + "\n")] == [{"text": "a\u2028b\x1cc"}]
    write_jsonl([rec], tmp_path / "m.jsonl")
    assert [r.payload for r in read_jsonl(tmp_path / "m.jsonl")] == [rec.payload]


SECRET = "sk-SECRET-never-written"


def leaky_recorder() -> Recorder:
    """A log whose notes and messages carry a credential in every place one could hide."""
    rec = Recorder(ManualClock())
    rec.record_meta("Session", {"url": f"wss://h/v2?jwt={SECRET}", "authenticated": True})
    rec.record_sent({"message": "StartRecognition", "api_key": SECRET})
    rec.record_received({"message": "Info", "reason": f"echo Bearer {SECRET}"}, 0.1)
    rec.record_received({"message": "AddTranscript", "results": [], "metadata": {}}, 0.2)
    return rec


def test_every_writer_scrubs_the_same_way(tmp_path: Path) -> None:
    # Raw records (the recorder scrubs as it stores; a writer must not rely on it: a key
    # registered after a record was stored is still caught on the way out).
    rec = leaky_recorder()
    raw = [
        Record(
            0, 0.0, "meta", "Session", {"url": f"wss://h/v2?jwt={SECRET}", "authenticated": True}
        ),
        Record(
            1, 0.0, "sent", "StartRecognition", {"message": "StartRecognition", "api_key": SECRET}
        ),
        Record(2, 0.1, "recv", "Info", {"message": "Info", "reason": f"echo Bearer {SECRET}"}),
        Record(
            3,
            0.2,
            "recv",
            "AddTranscript",
            {"message": "AddTranscript", "results": [], "metadata": {}},
        ),
    ]
    live = JsonlWriter(tmp_path / "live.jsonl")
    live.write_all(raw)
    live.close()
    written = [
        (tmp_path / "live.jsonl").read_text(encoding="utf-8"),
        write_jsonl(raw, tmp_path / "all" / "messages.jsonl").read_text(encoding="utf-8"),
        to_text(raw),
        to_text(rec.records),
    ]
    assert len(set(written)) == 1  # one format, one policy: byte for byte the same
    text = written[0]
    assert SECRET not in text and "<redacted>" in text
    session = json.loads(text.splitlines()[0])["payload"]
    assert session == {"url": "wss://h/v2", "authenticated": True}  # flags stay readable
    assert not list(tmp_path.glob("all/*.tmp"))  # the atomic write left no temp file
    # Stored scrubbed too: tables and notebook displays built from records are clean.
    assert rec.records[1].payload is not None and rec.records[1].payload["api_key"] == "<redacted>"
    assert SECRET not in repr(rec.records)


def test_text_round_trip_skips_blank_and_broken_lines() -> None:
    rec = leaky_recorder()
    text = to_text(rec.records)
    back = from_text("\n" + text + "{not json\n" + '{"i": 1}\n')
    assert [r.type for r in back] == [r.type for r in rec.records]
    assert [to_line(r) for r in back] == text.splitlines()


# --- the writer thread -----------------------------------------------------------------


class SlowStream(io.StringIO):
    """A text stream as slow as a network drive: every write and flush sleeps."""

    def __init__(self, delay: float = 0.02) -> None:
        super().__init__()
        self.delay = delay
        self.writers: set[str] = set()
        self.flushes = 0
        self.final = ""

    def write(self, text: str) -> int:
        self.writers.add(threading.current_thread().name)
        time.sleep(self.delay)
        return super().write(text)

    def flush(self) -> None:
        self.flushes += 1
        time.sleep(self.delay)

    def close(self) -> None:
        self.final = self.getvalue()
        super().close()


def test_the_session_thread_never_writes_and_close_writes_everything(tmp_path: Path) -> None:
    stream = SlowStream()
    writer = JsonlWriter(tmp_path / "messages.jsonl", stream=stream)
    rec = Recorder(ManualClock())
    rec.subscribe(writer)
    for k in range(200):  # far faster than the stream: they queue up
        rec.record_audio(k + 1, 3200, k * 0.1, (k + 1) * 0.1, scheduled_t=(k + 1) * 0.1)
    writer.close()
    assert stream.writers == {"smnb-jsonl"}  # never the thread that records
    lines = stream.final.splitlines()
    assert [to_line(r) for r in rec.records] == lines  # all of them, in order
    assert stream.flushes >= 1 and writer.error is None


def test_lines_reach_the_disk_while_records_keep_coming(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    writer = JsonlWriter(path)
    rec = Recorder()
    rec.subscribe(writer)
    seen_before_close = 0
    for k in range(40):  # 0.4 s of records every 10 ms: flushed without waiting for close
        rec.record_meta("Tick", {"k": k})
        time.sleep(0.01)
        seen_before_close = max(seen_before_close, len(path.read_text().splitlines()))
    assert writer.flush(5)
    assert len(path.read_text().splitlines()) == 40
    assert seen_before_close > 10
    writer.close()


def test_a_write_error_stops_the_file_not_the_session(tmp_path: Path) -> None:
    class FullDisk(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    writer = JsonlWriter(tmp_path / "messages.jsonl", stream=FullDisk())
    rec = Recorder()
    rec.subscribe(writer)
    rec.record_meta("Tick")
    rec.record_meta("Tock")  # the caller never sees the error
    writer.close()
    assert isinstance(writer.error, OSError) and len(rec) == 2
    assert rec.callback_errors == []


CRASH = """
import sys
sys.path.insert(0, {root!r})
from smnb.recorder import JsonlWriter, Recorder
rec = Recorder()
rec.subscribe(JsonlWriter({path!r}))
for k in range(2000):
    rec.record_meta("Tick", {{"k": k}})
raise RuntimeError("the script crashes before closing anything")
"""


def test_a_crashing_script_still_leaves_everything_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "messages.jsonl"
    root = str(Path(__file__).resolve().parents[2])
    run = subprocess.run(
        [sys.executable, "-c", CRASH.format(root=root, path=str(path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1 and "the script crashes" in run.stderr
    lines = path.read_text().splitlines()
    assert len(lines) == 2000 and json.loads(lines[-1])["payload"] == {"k": 1999}
