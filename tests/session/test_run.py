"""``transcribe`` / ``atranscribe`` (smnb.session.run) against the real local server."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import smnb
from smnb.auth import ApiKey
from smnb.exceptions import AudioError, ConfigError, SessionCancelled
from smnb.recorder import Record, jsonl
from smnb.session.options import SessionOptions
from smnb.session.run import prepare
from tests.support.client import (
    SCRIPT,
    WORDS,
    FailingEngine,
    injecting_proxy,
    thread_server,
    tone_server,
    tone_wav,
    words_of,
)
from tests.support.server_fakes import InlineEngine, inline_engine_factory, speech

SAMPLES = Path(__file__).resolve().parents[2] / "smnb" / "samples"


@pytest.fixture
def tones(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "tones.wav")


@pytest.fixture(autouse=True)
def no_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key must never send these tests to the SaaS.
    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)
    monkeypatch.delenv("SPEECHMATICS_RT_URL", raising=False)


def lower(words: list[str]) -> list[str]:
    return [w.lower() for w in words]


# --- the three ways to run ----------------------------------------------------------


async def test_transcribe_in_a_thread_without_a_loop_runs_its_own(tones: Path) -> None:
    async with tone_server() as url:
        result = await asyncio.to_thread(smnb.transcribe, tones, url=url, pace="fast")
    assert isinstance(result, smnb.Result) and result.completed
    assert lower(words_of(result)) == WORDS


async def test_transcribe_inside_a_running_loop_uses_a_private_loop_thread(tones: Path) -> None:
    threads: list[str] = []
    with thread_server() as url:  # this test's loop will block: the server lives elsewhere
        asyncio.get_running_loop()  # we are inside a running loop, as in a Jupyter cell
        session = prepare(tones, url=url, pace="fast")
        session.recorder.subscribe(lambda r: threads.append(threading.current_thread().name))
        result = smnb.session.run.run_blocking(session)
        again = smnb.transcribe(tones, url=url, pace="fast")  # the public spelling
    assert set(threads) == {"smnb-session"}
    assert result.completed and lower(words_of(result)) == WORDS
    assert again.completed and lower(words_of(again)) == WORDS


async def test_ctrl_c_during_the_sync_api_in_a_running_loop_cancels_cleanly(
    tones: Path,
) -> None:
    main = threading.main_thread().ident
    assert main == threading.get_ident()  # SIGINT is delivered to this (the kernel's) thread
    with thread_server() as url:
        session = prepare(tones, url=url, pace="realtime")
        interrupted: list[bool] = []

        def press_ctrl_c(record: Record) -> None:  # runs on the session's private thread
            if record.type == "AudioAdded" and not interrupted:
                interrupted.append(True)
                signal.pthread_kill(main, signal.SIGINT)

        session.recorder.subscribe(press_ctrl_c)
        # ipykernel runs cells with Python's default SIGINT handler (KeyboardInterrupt);
        # the asyncio.Runner driving this test would only cancel its task instead.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with pytest.raises(SessionCancelled) as info:
                smnb.session.run.run_blocking(
                    session
                )  # blocks this running loop, like a Jupyter cell
        finally:
            signal.signal(signal.SIGINT, previous)
    assert isinstance(info.value.__cause__, KeyboardInterrupt)
    records = info.value.result.recorder.records
    assert [r.type for r in records[-2:]] == ["Closed", "ClientError"]
    assert not any(r.type == "EndOfTranscript" for r in records)


async def test_atranscribe_writes_the_log_as_messages_arrive(tones: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    seen_on_disk: list[bool] = []

    def check_disk(record: Record) -> None:  # runs after the JSONL writer for each record
        if record.type == "AddTranscript":
            # The writer's own thread writes it (a slow disk never holds the session's loop);
            # wait for that thread, then the line must be on disk, mid-session.
            assert session.writer is not None and session.writer.flush(5)
            lines = (out / "messages.jsonl").read_text().splitlines()
            seen_on_disk.append(json.loads(lines[-1])["i"] == record.i)

    async with tone_server() as url:
        session = prepare(tones, url=url, pace="fast", out=out)
        session.recorder.subscribe(check_disk)
        result = await session.run()
    assert seen_on_disk == [True] * 4
    for name in ("words.csv", "partials.csv", "messages.jsonl", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    assert len((out / "messages.jsonl").read_text().splitlines()) == len(result.recorder)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["state"] == "completed" and summary["counts"]["words"] == 4


async def test_a_server_error_raises_with_a_result_and_files(tones: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    async with tone_server(FailingEngine(after=14)) as url:
        with pytest.raises(smnb.ServerError) as info:
            await smnb.atranscribe(tones, url=url, pace="fast", max_unacked=1, out=out)
    result = info.value.result
    assert isinstance(result, smnb.Result) and result.error is info.value
    assert lower(words_of(result))[:1] == ["alpha"]  # finals before the failure are kept
    assert result.errors["type"].tolist() == ["job_error"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["error"]["type"] == "ServerError" and summary["counts"]["words"] >= 1


async def test_arrays_and_byte_streams_are_sources(tones: Path) -> None:
    x = speech(list(SCRIPT), rate=8_000)

    async def pcm_blocks() -> Any:
        data = np.clip(np.rint(speech(list(SCRIPT)) * 32767), -32768, 32767).astype("<i2")
        raw = data.tobytes()
        for i in range(0, len(raw), 5_000):
            yield raw[i : i + 5_000]

    async with tone_server() as url:
        from_array = await smnb.atranscribe(x, sample_rate=8_000, url=url, pace="fast")
        from_stream = await smnb.atranscribe(pcm_blocks(), sample_rate=16_000, url=url, pace="fast")
        as_file = await smnb.atranscribe(tones, audio_format="file", url=url, pace="fast")
    assert lower(words_of(from_array)) == WORDS
    assert lower(words_of(from_stream)) == WORDS
    assert lower(words_of(as_file)) == WORDS
    assert as_file.config["audio_format"] == {"type": "file"}


async def test_channel_diarization_splits_a_stereo_file(tmp_path: Path) -> None:
    stereo = tone_wav(tmp_path / "stereo.wav", channels=2)
    async with tone_server() as url:
        result = await smnb.atranscribe(
            stereo,
            diarization="channel",
            url=url,
            pace="fast",
            channel_diarization_labels=["agent", "caller"],
        )
    words = result.words
    assert set(words["channel"].dropna()) == {"agent", "caller"}
    assert lower(list(words.loc[words["channel"] == "agent", "content"][::2])) == WORDS


# --- one outcome per session ---------------------------------------------------------


async def test_a_malformed_frame_then_end_of_transcript_leaves_the_session_completed(
    tones: Path, tmp_path: Path
) -> None:
    bad = '{"message": "AddTranscript", "results": {"not": "a list"}}'
    async with tone_server() as upstream, injecting_proxy(upstream, "AudioAdded", bad) as url:
        result = await smnb.atranscribe(tones, url=url, pace="fast", out=tmp_path / "run")
    again = smnb.load(tmp_path / "run")
    assert isinstance(again, smnb.Result)
    for r in (result, again):  # the live result and the log on disk tell the same story
        assert (r.state, r.error, r.completed) == ("completed", None, True)
        (problem,) = r.problems
        assert problem["error"] == "ProtocolError" and problem["frame"] == bad
        assert "AddTranscript.results must be a list of objects" in problem["message"]
        assert lower(words_of(r)) == WORDS
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["state"] == "completed"


# --- settings -------------------------------------------------------------------------


async def test_bad_audio_fails_before_connecting(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not audio")
    for source, message in [
        (tmp_path / "missing.wav", "no such audio file"),
        (tmp_path / "notes.txt", "not a readable audio file"),
        (np.zeros(100), "sample_rate is required"),
    ]:
        with pytest.raises((AudioError, ConfigError), match=message):
            await smnb.atranscribe(source, url="ws://127.0.0.1:9/v2")


# --- keys -----------------------------------------------------------------------------


KEY = "sk-FAKE-4f7c1e9a-never-print-me"


async def test_the_api_key_appears_nowhere(
    tones: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the WebSocket library logs handshake headers at DEBUG
    out = tmp_path / "out"
    async with tone_server(api_key=KEY) as url:
        result = await smnb.atranscribe(tones, url=url, api_key=KEY, pace="fast", out=out)
        with pytest.raises(smnb.AuthError) as denied:
            await smnb.atranscribe(tones, url=url, api_key="sk-WRONG-KEY", pace="fast")
    assert result.completed  # the key was sent and accepted …
    assert "Authorization: Bearer <redacted>" in caplog.text  # … and its log line redacted
    shown = [
        caplog.text,
        repr(result),
        result._repr_html_(),
        json.dumps(result.summary(), default=str),
        str([jsonl.to_line(r) for r in result.recorder.records]),
        repr(SessionOptions.create(api_key=KEY, url=url)),
        str(denied.value),
        *(p.read_text() for p in out.iterdir()),
    ]
    assert all(KEY not in text for text in shown)
    assert all("sk-WRONG-KEY" not in text for text in (caplog.text, str(denied.value)))


ODD_KEYS = ["sk!odd$chars%20:&x=0123#TAIL", "sk\"quote'd`back\\slash<x>", "sk-ünïcødé-ß-µ"]


def leaks(key: str, text: str, width: int = 6) -> list[str]:
    return [key[i : i + width] for i in range(len(key) - width + 1) if key[i : i + width] in text]


@pytest.mark.parametrize("key", ODD_KEYS)
async def test_an_odd_key_appears_in_no_log_repr_error_or_export(
    key: str, tones: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "out"
    async with tone_server(api_key=key) as url:
        result = await smnb.atranscribe(tones, url=url, api_key=key, pace="fast", out=out)
        with pytest.raises(smnb.AuthError) as denied:
            await smnb.atranscribe(tones, url=url, api_key=key + "x", pace="fast")
    assert result.completed
    parquet = tmp_path / "parquet"
    result.to_parquet(parquet)
    shown = [
        caplog.text,
        repr(result),
        result._repr_html_(),
        json.dumps(result.summary(), default=str),
        repr(SessionOptions.create(api_key=key, url=url)),
        repr(ApiKey(key)),
        str(denied.value),
        repr(denied.value),
        *(p.read_text() for p in out.iterdir()),
        *(p.read_bytes().decode("utf-8", "replace") for p in parquet.iterdir()),
    ]
    assert [leaks(key, text) for text in shown] == [[]] * len(shown)


# --- the embedded server ------------------------------------------------------------


@pytest.fixture
def fresh_embedded() -> Any:
    """No shared embedded server before or after the test (it may swap the engine)."""
    from smnb.session import embedded

    embedded.close()
    yield embedded
    embedded.close()


async def test_no_url_and_no_key_starts_the_embedded_server(
    tones: Path, monkeypatch: pytest.MonkeyPatch, fresh_embedded: Any
) -> None:
    from smnb.server import app

    engine = InlineEngine()  # the real server, with the tone engine instead of pocketsphinx
    monkeypatch.setattr(app, "default_engine_factory", inline_engine_factory(engine))
    result = await smnb.atranscribe(tones, pace="fast")
    assert result.completed and lower(words_of(result)) == WORDS
    note = result.recorder.records[0].payload
    assert note["embedded_server"] is True and note["authenticated"] is False
    assert note["url"].startswith("ws://127.0.0.1:") and len(engine.opened) == 1


async def test_speechmatics_rt_url_without_a_key_is_the_endpoint(
    tones: Path, monkeypatch: pytest.MonkeyPatch, fresh_embedded: Any
) -> None:
    engine = InlineEngine()
    async with tone_server(engine) as url:  # an on-prem container: no key needed
        monkeypatch.setenv("SPEECHMATICS_RT_URL", url)
        result = await smnb.atranscribe(tones, pace="fast")
    assert result.completed and lower(words_of(result)) == WORDS
    note = result.recorder.records[0].payload
    assert note["embedded_server"] is False and note["authenticated"] is False
    assert note["url"] == url and len(engine.opened) == 1
    assert not fresh_embedded.shared().running, "the embedded server never started"


def test_embedded_server_runs_when_there_is_no_url_and_no_key() -> None:
    # The real default: pocketsphinx worker processes behind the embedded server.
    clip = SAMPLES / "librivox-ss01-0930.wav"
    result = smnb.transcribe(clip, pace="fast", timeout=120)
    assert result.completed
    note = result.recorder.records[0].payload
    assert note["embedded_server"] is True and note["url"].startswith("ws://127.0.0.1:")
    reference = clip.with_suffix(".txt").read_text().split()
    heard = set(lower(words_of(result)))
    # Real speech through a real recognizer: most reference words, not an exact string.
    assert len(heard & set(reference)) >= len(reference) // 2, (heard, reference)


# --- a real Jupyter kernel --------------------------------------------------------------


def test_every_entry_point_works_in_a_running_jupyter_kernel(tones: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "import asyncio, smnb\nasyncio.get_running_loop()  # the kernel's loop runs this cell",
        "r = smnb.transcribe(PATH, url=URL, pace='fast')\nprint('sync', r.completed, r.text)",
        "r = await smnb.atranscribe(PATH, url=URL, pace='fast')\nprint('await', r.completed)",
        "h = smnb.start(PATH, url=URL, pace='fast')\nprint('started', h.done())",
        "r = await h\nprint('handle', r.completed, h.done())",
    ]
    with thread_server() as url:
        setup = f"PATH, URL = {str(tones)!r}, {url!r}"
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in [setup, *cells]])
        nbclient.NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    printed = "".join(
        out.get("text", "")
        for cell in nb.cells
        for out in cell.outputs
        if out.output_type == "stream"
    )
    errors = [o for cell in nb.cells for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    assert printed.splitlines() == [
        "sync True Alpha. Bravo. Charlie. Delta.",
        "await True",
        "started False",
        "handle True True",
    ]
