"""Property-based fuzzing of frames and JSON against the real server.

Whatever a client sends, the server answers with spec messages only, ends a bad
session with an ``Error`` of a spec type (never ``unknown_error``) and the matching
close code, and finishes a good one with ``EndOfTranscript``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from smnb.protocol.messages import ClientMessage, ErrorType, ServerMessage, close_code_for
from tests.support.server_process import ServeProcess, start_message

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
messages = st.builds(
    lambda kind, fields: json.dumps({"message": kind, **fields}),
    st.sampled_from([*ClientMessage, "Hello", ""]),
    st.dictionaries(
        st.sampled_from(["transcription_config", "audio_format", "data", "channel", "last_seq_no",
                         "final", "timestamp", "x"]),
        json_values,
        max_size=3,
    ),
)  # fmt: skip
text_frames = messages | st.text(max_size=200) | json_values.map(json.dumps)
binary_frames = st.binary(max_size=3000)
frames = st.lists(text_frames | binary_frames, min_size=1, max_size=6)


async def session(url: str, start: bool, sent: list[str | bytes]) -> list[dict[str, Any]]:
    """Send ``sent`` (after a valid StartRecognition if ``start``); what came back."""
    received: list[dict[str, Any]] = []
    async with connect(url, max_size=None) as ws:

        async def read() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for frame in ws:
                    assert isinstance(frame, str), "server frames are JSON text"
                    received.append(json.loads(frame))

        reader = asyncio.create_task(read())
        try:
            if start:
                await ws.send(start_message())
            for frame in sent:
                await ws.send(frame)
            await ws.send(json.dumps({"message": "EndOfStream", "last_seq_no": 0}))
            async with asyncio.timeout(20):
                while not any(m["message"] in ("EndOfTranscript", "Error") for m in received):
                    await asyncio.sleep(0.02)
        except ConnectionClosed:
            pass
        finally:
            await ws.close()
            await reader
        code = ws.close_code
    errors = [m for m in received if m["message"] == "Error"]
    if errors:
        kind = errors[0]["type"]
        assert kind in set(ErrorType) and kind != ErrorType.UNKNOWN_ERROR, errors
        assert code == close_code_for(kind), (kind, code)
        assert received[-1] is errors[0], "nothing after an Error"
    return received


def check(received: list[dict[str, Any]]) -> None:
    kinds = {m["message"] for m in received}
    assert kinds <= set(ServerMessage), kinds
    assert "EndOfTranscript" in kinds or "Error" in kinds, received[-3:]


@FUZZ
@given(start=st.booleans(), sent=frames)
def test_fuzzed_frames(server: ServeProcess, start: bool, sent: list[str | bytes]) -> None:
    check(asyncio.run(session(server.url, start, sent)))


@FUZZ
@given(config=json_values, audio_format=json_values)
def test_fuzzed_start_recognition(server: ServeProcess, config: Any, audio_format: Any) -> None:
    start = json.dumps({"message": "StartRecognition", "transcription_config": config,
                        "audio_format": audio_format})  # fmt: skip
    received = asyncio.run(session(server.url, False, [start, bytes(3200)]))
    check(received)
