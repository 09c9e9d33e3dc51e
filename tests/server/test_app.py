"""The WebSocket server on a real loopback socket: routes, auth, limits, isolation.

Recognition here is :class:`ToneRecognizer` (in-process, exact) so these tests
are about the transport; the real engine is exercised in ``tests/conformance``,
``smnb serve`` as a process in ``tests/cli/test_serve.py``, and here by the
``SetRecognitionConfig`` test at the end.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from smnb.exceptions import ConfigError
from smnb.server import serve
from smnb.server.app import is_loopback
from tests.support.engine_audio import clip
from tests.support.rt_stream import stream
from tests.support.server_fakes import InlineEngine, inline_engine_factory, s16, speech

START = {
    "message": "StartRecognition",
    "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000},
    "transcription_config": {"language": "en", "max_delay": 1.0},
}
AUDIO = s16(speech(["alpha", 0.1, "bravo", 0.5]))


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with serve(engine_factory=inline_engine_factory()) as url:
        yield url


async def recv_json(ws: ClientConnection) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), 10)
    assert isinstance(frame, str), "server messages must be text frames"
    msg: dict[str, Any] = json.loads(frame)
    return msg


async def until(ws: ClientConnection, kind: str) -> list[dict[str, Any]]:
    """Every message up to and including the first of ``kind``."""
    out = []
    while True:
        out.append(await recv_json(ws))
        if out[-1]["message"] == kind:
            return out


async def transcribe(ws: ClientConnection) -> list[dict[str, Any]]:
    """A whole session on an open socket; returns every message received."""
    await ws.send(json.dumps(START))
    out = await until(ws, "RecognitionStarted")
    for i in range(0, len(AUDIO), 4096):
        await ws.send(AUDIO[i : i + 4096])
    await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": 0}))
    return out + await until(ws, "EndOfTranscript")


def text_of(msgs: list[dict[str, Any]]) -> str:
    return "".join(m["metadata"]["transcript"] for m in msgs if m["message"] == "AddTranscript")


async def test_serve_yields_a_v2_url_and_runs_a_session(url: str) -> None:
    assert url.startswith("ws://127.0.0.1:") and url.endswith("/v2")
    assert int(url.split(":")[2].split("/")[0]) > 0
    async with connect(url) as ws:
        msgs = await transcribe(ws)
    assert msgs[0]["type"] == "concurrent_session_usage"
    assert text_of(msgs) == "Alpha bravo. "
    assert [m["seq_no"] for m in msgs if m["message"] == "AudioAdded"] == list(
        range(1, -(-len(AUDIO) // 4096) + 1)
    )


@pytest.mark.parametrize("path", ["/v2", "/v2/", "/v2/en", "/v2/en/"])
async def test_accepted_paths(url: str, path: str) -> None:
    async with connect(url.removesuffix("/v2") + path + "?sm-sdk=python-test") as ws:
        assert text_of(await transcribe(ws)) == "Alpha bravo. "


async def test_a_plain_http_get_is_a_bad_request(url: str) -> None:
    port = int(url.split(":")[2].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /v2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status.startswith(b"HTTP/1.1 400"), status


@pytest.mark.parametrize("path", ["/", "/v1", "/v3", "/v2/en/extra", "/v2x", "/health"])
async def test_other_paths_are_404(url: str, path: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url.removesuffix("/v2") + path):
            pass
    assert info.value.response.status_code == 404


async def test_a_plain_http_request_is_a_bad_request(url: str) -> None:
    # docs (API reference, handshake responses): a malformed handshake gets 400.
    host, port = url.removeprefix("ws://").removesuffix("/v2").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /v2 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status.split()[1] == b"400", status


async def test_without_api_key_any_credential_is_accepted(url: str) -> None:
    for headers in ({}, {"Authorization": "Bearer None"}, {"Authorization": "Bearer whatever"}):
        async with connect(url, additional_headers=headers) as ws:
            assert text_of(await transcribe(ws)) == "Alpha bravo. "


async def test_with_api_key_a_handshake_needs_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = "sekrit-key-123"
    async with serve(api_key=key, engine_factory=inline_engine_factory()) as url:
        for headers, query in (({}, ""), ({"Authorization": "Bearer wrong"}, ""), ({}, "?jwt=no")):
            with pytest.raises(InvalidStatus) as info:
                async with connect(url + query, additional_headers=headers):
                    pass
            assert info.value.response.status_code == 401
        async with connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
            assert text_of(await transcribe(ws)) == "Alpha bravo. "
        async with connect(f"{url}?jwt={key}&sm-sdk=js-test") as ws:
            assert text_of(await transcribe(ws)) == "Alpha bravo. "
    server_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("smnb"))
    assert "Authorization" in server_log  # the handshake was logged at DEBUG…
    assert "sm-sdk=js-test" in server_log  # …and the client is identified…
    assert key not in server_log  # …but its key never is


async def test_quota_exceeded_closes_with_4005() -> None:
    async with serve(max_sessions=1, engine_factory=inline_engine_factory()) as url:
        async with connect(url) as first:
            assert (await recv_json(first))["usage"] == 1
            async with connect(url) as second:
                error = await recv_json(second)
                assert error["message"] == "Error" and error["type"] == "quota_exceeded"
                with pytest.raises(ConnectionClosed):
                    await second.recv()
                assert second.close_code == 4005
            assert text_of(await transcribe(first)) == "Alpha bravo. "
        async with connect(url) as third:  # the slot is free again
            assert text_of(await transcribe(third)) == "Alpha bravo. "


async def test_bad_input_ends_only_its_own_session(url: str) -> None:
    async with connect(url) as good, connect(url) as bad:
        await good.send(json.dumps(START))
        await until(good, "RecognitionStarted")
        await good.send(AUDIO[:4096])
        await bad.send("{this is not json")
        msgs = await until(bad, "Error")
        assert msgs[-1]["type"] == "invalid_message"
        with pytest.raises(ConnectionClosed):
            await bad.recv()
        assert bad.close_code == 1008
        for i in range(4096, len(AUDIO), 4096):
            await good.send(AUDIO[i : i + 4096])
        await good.send(json.dumps({"message": "EndOfStream", "last_seq_no": 0}))
        assert text_of(await until(good, "EndOfTranscript")) == "Alpha bravo. "


async def test_protocol_error_closes_with_1003(url: str) -> None:
    async with connect(url) as ws:
        await ws.send(b"\x00\x00")  # audio before StartRecognition
        msgs = await until(ws, "Error")
        assert msgs[-1]["type"] == "protocol_error"
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1003 and ws.close_reason == "protocol_error"


async def test_a_server_bug_costs_one_session_an_unknown_error(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, update: object) -> list[dict[str, Any]]:
        raise RuntimeError("boom")

    monkeypatch.setattr("smnb.server.protocol.transcript.TranscriptWriter.update", broken)
    async with connect(url) as ws:
        await ws.send(json.dumps(START))
        await until(ws, "RecognitionStarted")
        await ws.send(AUDIO[:4096])
        error = (await until(ws, "Error"))[-1]
        assert error["type"] == "unknown_error" and "boom" in error["reason"]
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1011
    monkeypatch.undo()
    async with connect(url) as ws:  # the server itself is fine
        assert text_of(await transcribe(ws)) == "Alpha bravo. "


async def test_client_leaving_mid_session_frees_everything() -> None:
    engine = InlineEngine()
    async with serve(max_sessions=1, engine_factory=inline_engine_factory(engine)) as url:
        async with connect(url) as ws:
            await ws.send(json.dumps(START))
            await until(ws, "RecognitionStarted")
            await ws.send(AUDIO[:4096])
        async with connect(url) as ws:  # quota slot released after an abrupt end
            assert text_of(await transcribe(ws)) == "Alpha bravo. "
    assert len(engine.opened) == 2


async def test_server_answers_pings(url: str) -> None:
    async with connect(url) as ws:
        await recv_json(ws)
        latency = await asyncio.wait_for(await ws.ping(), 5)
        assert latency < 1.0


async def test_server_closes_if_the_client_lingers_after_end_of_transcript(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("smnb.server.connection.CLOSE_GRACE", 0.2)
    async with connect(url) as ws:
        await transcribe(ws)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1000


async def test_remote_hosts_need_a_key_or_allow_remote() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
    with pytest.raises(ConfigError, match="allow_remote"):
        async with serve("0.0.0.0", engine_factory=inline_engine_factory()):
            pass
    with pytest.raises(ConfigError, match="max_sessions"):
        async with serve(max_sessions=0, engine_factory=inline_engine_factory()):
            pass


async def test_a_busy_port_is_one_config_error_naming_the_address(url: str) -> None:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(ConfigError) as caught:
        async with serve("127.0.0.1", port, engine_factory=inline_engine_factory()):
            pass
    assert str(caught.value) == f"cannot listen on 127.0.0.1:{port}: address already in use"
    assert isinstance(caught.value.__cause__, OSError)  # the CLI's hint looks at its errno
    async with connect(url) as ws:  # the server that holds the port is unharmed
        assert text_of(await transcribe(ws)) == "Alpha bravo. "


# --- the real engine --------------------------------------------------------------------


async def test_set_recognition_config_max_delay_reaches_the_real_engine() -> None:
    """Start at max_delay 4, switch to 1 at 3 s: the words not final yet follow the new bound."""
    pcm = np.concatenate([clip("librivox-ss01-0870"), np.zeros(48000, np.int16)]).tobytes()
    config = {"max_delay": 4.0, "max_delay_mode": "fixed"}
    change = {"message": "SetRecognitionConfig",
              "transcription_config": {"max_delay": 1.0, "max_delay_mode": "fixed"}}  # fmt: skip
    switch = 3.0

    def latencies(got: Any) -> list[float]:  # audio acknowledged when a word's final came
        return [
            position - r["end_time"]
            for position, msg in got.timed()
            if msg["message"] == "AddTranscript"
            for r in msg["results"]
            if r["type"] == "word" and r["end_time"] > switch
        ]

    async with serve() as url:
        kept = latencies(await stream(url, pcm, config))
        changed = latencies(await stream(url, pcm, config, texts={round(switch * 32000): change}))
    assert len(changed) > 5 and len(kept) > 5
    assert max(kept) > 1.5  # at max_delay 4 these words wait longer ...
    assert max(changed) <= 1.0 + 0.1  # ... than the new bound allows (0.1 s: ack resolution)
