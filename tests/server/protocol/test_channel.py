"""Channel: one channel's audio in (decode, gate, cut, ack) and transcript out, no session.

Channels are opened from a real checked plan (:func:`~smnb.server.protocol.start.plan_session`)
and fed to :class:`ToneRecognizer`, a real recognizer that turns tones into named words.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from smnb.protocol.messages import ServerMessage
from smnb.server.protocol import start
from smnb.server.protocol.actions import Action, Feed, Finish, ForceEnd, Reconfigure, Send
from smnb.server.protocol.channel import PARTIAL_SAMPLES, Channel
from smnb.server.protocol.transcript import PARTIAL_INTERVAL
from tests.support import server_messages
from tests.support.server_fakes import ToneRecognizer, s16, speech

RAW16 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


def plan(**config: Any) -> start.SessionPlan:
    return start.plan_session({
        "message": "StartRecognition",
        "audio_format": RAW16,
        "transcription_config": {"language": "en", **config},
    })  # fmt: skip


def frame(channel: Channel, data: bytes, ack_type: ServerMessage) -> list[Action]:
    channel.frames += 1  # the session counts every frame, even one it then ignores
    return channel.push(data, ack_type)


def test_pieces_never_cross_the_partial_cadence_and_tile_the_audio() -> None:
    assert round(PARTIAL_INTERVAL * 16000) == PARTIAL_SAMPLES
    channel = Channel.open(None, plan())
    audio = s16(speech(["alpha", 1.0]))
    fed: list[np.ndarray] = []
    for i in range(0, len(audio), 333):  # odd byte counts split samples
        fed += [a.samples for a in frame(channel, audio[i : i + 333], ServerMessage.AUDIO_ADDED)
                if isinstance(a, Feed)]  # fmt: skip
    position = 0
    for piece in fed:
        assert position // PARTIAL_SAMPLES == (position + len(piece) - 1) // PARTIAL_SAMPLES
        position += len(piece)
    assert position == channel.fed == len(audio) // 2  # nothing held back
    assert np.array_equal(np.concatenate(fed), np.frombuffer(audio, "<i2"))
    big = Channel.open(None, plan())
    pieces = frame(big, audio, ServerMessage.AUDIO_ADDED)  # one big frame: many pieces
    assert max(len(p.samples) for p in pieces if isinstance(p, Feed)) == PARTIAL_SAMPLES


def test_the_last_piece_carries_the_ack_and_a_frame_without_samples_is_acked_alone() -> None:
    channel = Channel.open("left", plan())
    out = frame(channel, s16(speech([0.5])), ServerMessage.CHANNEL_AUDIO_ADDED)
    assert all(isinstance(a, Feed) and a.channel == "left" for a in out) and len(out) > 1
    assert [a.ack for a in out if isinstance(a, Feed)][-1] == {
        "message": "ChannelAudioAdded", "seq_no": 1, "channel": "left",
    }  # fmt: skip
    assert all(a.ack is None for a in out[:-1] if isinstance(a, Feed))
    lone = frame(channel, b"\x00", ServerMessage.CHANNEL_AUDIO_ADDED)  # half a sample
    assert lone == [Send({"message": "ChannelAudioAdded", "seq_no": 2, "channel": "left"})]
    single = Channel.open(None, plan())
    assert frame(single, b"\x00", ServerMessage.AUDIO_ADDED) == [
        Send({"message": "AudioAdded", "seq_no": 1})  # no channel field on a single channel
    ]


def test_end_flushes_the_tail_then_finishes() -> None:
    # The volume gate judges whole 10 ms chunks: it holds a chunk's start until it is complete.
    channel = Channel.open(None, plan(audio_filtering_config={"volume_threshold": 0.0}))
    audio = s16(speech(["alpha"]))[: 2 * 1605]
    held = len(audio) // 2 - sum(
        len(a.samples) for a in frame(channel, audio, ServerMessage.AUDIO_ADDED)
        if isinstance(a, Feed)
    )  # fmt: skip
    assert held > 0
    out = channel.end()
    assert channel.ended and out[-1] == Finish(None)
    assert sum(len(a.samples) for a in out if isinstance(a, Feed)) == held
    assert channel.fed == 1605


def run(channel: Channel, rec: ToneRecognizer, actions: list[Action]) -> list[dict[str, Any]]:
    """Carry out ``actions`` on ``rec`` as a transport would; the messages sent, in order."""
    sent: list[dict[str, Any]] = []
    queue = list(actions)
    while queue:
        action = queue.pop(0)
        if isinstance(action, Send):
            server_messages.record(action.message)  # valid RT v2 (tests/conftest.py)
            sent.append(action.message)
        elif isinstance(action, Feed):
            queue[:0] = channel.fed_result(action, rec.feed(action.samples))
        elif isinstance(action, ForceEnd):
            result = rec.force_end_of_utterance()
            queue[:0] = channel.utterance_ended(result, forced=action.forced)
        else:
            assert isinstance(action, Finish)
            queue[:0] = channel.finish(rec.finish())
    return sent


def test_a_frame_is_acked_once_its_last_piece_is_decoded_before_what_that_piece_made() -> None:
    p = plan(max_delay=1.0)
    channel, rec = Channel.open(None, p), ToneRecognizer(p.settings)
    audio = s16(speech(["alpha", 0.1, "bravo", 1.5]))
    sent: list[dict[str, Any]] = []
    for i in range(0, len(audio), 4096):
        *early, last = frame(channel, audio[i : i + 4096], ServerMessage.AUDIO_ADDED)
        before = run(channel, rec, early)
        assert "AudioAdded" not in [m["message"] for m in before]
        assert isinstance(last, Feed) and last.ack == {
            "message": "AudioAdded",
            "seq_no": i // 4096 + 1,
        }
        made = channel.fed_result(last, rec.feed(last.samples))
        assert made[0] == Send(last.ack)
        sent += before + run(channel, rec, made)
    sent += run(channel, rec, channel.end())
    assert channel.finished
    text = "".join(m["metadata"]["transcript"] for m in sent if m["message"] == "AddTranscript")
    assert text == "Alpha bravo. "


@pytest.mark.parametrize(("gap", "asks"), [(60.0, True), (0.3, False)])
def test_a_due_end_of_utterance_asks_the_recognizer_only_for_words_it_still_holds(
    gap: float, asks: bool
) -> None:
    # gap 60 s: the recognizer never hears the pause, so the channel must ask it to commit;
    # gap 0.3 s: the words are committed already and the EOU is written at once.
    trigger = {"end_of_utterance_silence_trigger": 0.5}
    p = plan(max_delay=4.0, conversation_config=trigger)
    channel, rec = Channel.open(None, p), ToneRecognizer(p.settings, utterance_gap=gap)
    audio = s16(speech(["alpha", 2.0]))
    actions: list[Action] = []
    sent: list[dict[str, Any]] = []
    for i in range(0, len(audio), 1600):
        for action in frame(channel, audio[i : i + 1600], ServerMessage.AUDIO_ADDED):
            assert isinstance(action, Feed)  # every frame holds samples
            made = channel.fed_result(action, rec.feed(action.samples))
            actions += made
            sent += run(channel, rec, made)
    assert any(isinstance(a, ForceEnd) and not a.forced for a in actions) is asks
    kinds = [m["message"] for m in sent if m["message"] != "AudioAdded"]
    assert kinds.count("EndOfUtterance") == 1
    eou = kinds.index("EndOfUtterance")
    assert kinds[eou - 1] == "AddTranscript"


def test_reconfigure_applies_each_change_and_a_new_delay_only_while_audio_flows() -> None:
    channel = Channel.open("a", plan(max_delay=2.0))
    changes = {
        "enable_partials": True,
        "audio_filtering_config": {"volume_threshold": 3.5},
        "conversation_config": {"end_of_utterance_silence_trigger": 0.7},
    }
    assert channel.reconfigure(changes, (1.0, "fixed")) == [Reconfigure("a", 1.0, "fixed")]
    assert channel.writer.settle_delay == 1.0 and channel.writer.partials is True
    assert channel.gate.threshold == 3.5 and channel.writer.eou_trigger == 0.7
    assert channel.reconfigure({"enable_partials": False}, None) == []
    assert channel.writer.partials is False and channel.writer.settle_delay == 1.0
    channel.end()
    assert channel.reconfigure({}, (3.0, "flexible")) == []  # its audio is over
    assert channel.writer.settle_delay == 1.0
