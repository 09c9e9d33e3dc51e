"""smnb.server.protocol.actions: what a server session asks its transport to do.

The action types are checked as values, then as a real :class:`ServerSession` emits
them: which input yields which action, and that an engine command's outcome comes
back through ``engine_done`` as the actions that follow it.
"""

from __future__ import annotations

import dataclasses
import json
import typing

import numpy as np
import pytest

from smnb.protocol.config import SAMPLE_RATE
from smnb.server.protocol import actions
from smnb.server.protocol.actions import (
    Action,
    Close,
    EngineCommand,
    Feed,
    Finish,
    ForceEnd,
    OpenChannels,
    QuerySpeakers,
    Reconfigure,
    Send,
)
from smnb.server.protocol.session import ServerSession
from smnb.server.recognizer import RecognizerSettings, Update, Word

WIRE = (Send, Close)
COMMANDS = (OpenChannels, Feed, ForceEnd, Finish, QuerySpeakers, Reconfigure)
START = {
    "message": "StartRecognition",
    "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": SAMPLE_RATE},
    "transcription_config": {"language": "en", "max_delay": 2.0},
}


def test_the_unions_name_every_action_once() -> None:
    assert typing.get_args(EngineCommand) == COMMANDS
    assert typing.get_args(Action) == (*WIRE, *COMMANDS)
    defined = {
        obj
        for obj in vars(actions).values()
        if dataclasses.is_dataclass(obj) and obj.__module__ == actions.__name__
    }
    assert defined == {*WIRE, *COMMANDS}  # no action outside the unions


def test_actions_are_frozen_values() -> None:
    send = Send({"message": "EndOfTranscript"})
    assert send == Send({"message": "EndOfTranscript"}) and send != Send({"message": "Info"})
    assert Close(1003, "bad") == Close(1003, "bad") != Close(1011, "bad")
    assert ForceEnd(None, forced=True) != ForceEnd(None, forced=False)
    for action in (send, Close(1000, ""), Finish("left"), QuerySpeakers(final=True)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(action, dataclasses.fields(action)[0].name, None)


def test_a_feed_is_compared_by_identity_not_by_its_samples() -> None:
    samples = np.arange(160, dtype=np.int16)
    feed = Feed(None, samples)
    twin = Feed(None, samples.copy())
    assert feed == feed and feed != twin  # no elementwise array comparison
    assert len({feed, twin}) == 2  # hashable: a transport can track commands in flight
    assert feed.ack is None


def run(session: ServerSession, actions_: list[Action], log: list[Action]) -> None:
    """Carry out ``actions_`` in order as a transport does, with a scripted engine."""
    queue = list(actions_)
    while queue:
        action = queue.pop(0)
        log.append(action)
        if isinstance(action, Send):
            json.dumps(action.message)  # every Send is one JSON text frame
        elif isinstance(action, Close):
            return
        else:
            queue[:0] = session.engine_done(action, outcome(action))


def outcome(command: EngineCommand) -> object:
    if isinstance(command, OpenChannels):
        return None
    if isinstance(command, QuerySpeakers):
        return {}
    if isinstance(command, Feed):  # one word per fed piece, timed by its samples
        return Update(finals=(Word("word", 0.0, 0.1),), processed_until=0.1)
    return Update(processed_until=0.1)


def kinds(log: list[Action]) -> list[str]:
    return [a.message["message"] if isinstance(a, Send) else type(a).__name__ for a in log]


def test_a_session_asks_for_channels_then_feeds_then_finishes_in_order() -> None:
    session = ServerSession("sid")
    log: list[Action] = []
    run(session, session.opened(), log)
    run(session, session.receive_text(json.dumps(START)), log)
    opened = next(a for a in log if isinstance(a, OpenChannels))
    assert opened.channels == (None,)  # one stream, no channel labels
    assert isinstance(opened.settings, RecognizerSettings) and opened.settings.max_delay == 2.0
    # RecognitionStarted is sent only once the engine has opened the channel
    names = kinds(log)
    assert names.index("OpenChannels") == names.index("RecognitionStarted") - 1

    pcm = np.zeros(1600, dtype=np.int16).tobytes()
    start = len(log)
    run(session, session.receive_binary(pcm), log)
    feed = log[start]
    assert isinstance(feed, Feed) and feed.channel is None
    assert feed.samples.dtype == np.int16 and len(feed.samples) == 1600
    assert feed.ack == {"message": "AudioAdded", "seq_no": 1}
    # the ack goes out after the decode, followed by what the decode produced
    assert kinds(log[start:]) == ["Feed", "AudioAdded", "AddTranscript"]

    start = len(log)
    change = {"message": "SetRecognitionConfig", "transcription_config": {"max_delay": 1.0}}
    run(session, session.receive_text(json.dumps(change)), log)
    assert log[start:] == [Reconfigure(None, 1.0, "flexible")]  # it yields nothing to send

    start = len(log)
    run(session, session.receive_text(json.dumps({"message": "ForceEndOfUtterance"})), log)
    assert log[start] == ForceEnd(None, forced=True)

    start = len(log)
    run(
        session, session.receive_text(json.dumps({"message": "EndOfStream", "last_seq_no": 1})), log
    )
    assert log[start] == Finish(None)
    assert kinds(log)[-1] == "EndOfTranscript"
    assert session.finished
    assert session.receive_binary(pcm) == []  # nothing more is asked of the transport


def test_a_bad_frame_yields_an_error_then_a_close() -> None:
    session = ServerSession("sid")
    out = session.receive_text("{not json")
    assert [type(a) for a in out] == [Send, Close]
    send, close = out
    assert isinstance(send, Send) and send.message["message"] == "Error"
    assert isinstance(close, Close) and close.code >= 1000 and close.reason
