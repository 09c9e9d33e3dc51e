"""smnb.server.replay.prepare: a recording and its audio, loaded once before serving."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from smnb.exceptions import ConfigError
from smnb.server.replay import Replay, load_recording, prepare_replay
from smnb.server.replay.reference import reference_for
from tests.support.table_sessions import fixture

SAMPLES = Path(__file__).resolve().parents[3] / "smnb" / "samples"
CHAT1 = SAMPLES / "chat1.jsonl"
CHAT1_AUDIO = SAMPLES / "audio_01_16kHz.wav"
OTHER_AUDIO = SAMPLES / "librivox-ss01-0870.wav"


def test_a_saas_recording_comes_with_the_audio_beside_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="smnb.server.replay"):
        replay = prepare_replay(str(CHAT1))
    assert replay.recording == load_recording(CHAT1)
    assert replay.reference is not None and replay.reference.path == CHAT1_AUDIO
    assert replay.reference.data == reference_for(replay.recording).data  # type: ignore[union-attr]
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("replaying")]
    ref = replay.reference
    assert line.startswith(f"replaying chat1.jsonl: {len(replay.recording.timed)} timed messages")
    assert f"reference audio {CHAT1_AUDIO.name} ({ref.seconds:.2f} s" in line
    assert ref.sha256[:12] in line
    assert len(replay.recording.timed) > 100  # the whole session, not a stub


def test_given_audio_replaces_the_one_the_recording_names() -> None:
    replay = prepare_replay(CHAT1, OTHER_AUDIO)
    assert replay.reference is not None and replay.reference.path == OTHER_AUDIO
    assert replay.reference.data != prepare_replay(CHAT1).reference.data  # type: ignore[union-attr]


def test_without_its_audio_a_recording_is_replayed_unchecked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(fixture("simple"), out / "messages.jsonl")  # names hello.wav, not copied
    with caplog.at_level(logging.INFO, logger="smnb.server.replay"):
        replay = prepare_replay(out)
    assert replay.reference is None
    assert replay.recording.timed  # the messages are still there to serve
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("replaying")]
    assert line == f"replaying messages.jsonl: {len(replay.recording.timed)} timed messages"


def test_a_replay_is_taken_as_it_is() -> None:
    ready = Replay(load_recording(CHAT1))
    assert prepare_replay(ready) is ready
    assert prepare_replay(ready, OTHER_AUDIO) is ready  # already decided: audio not reloaded


@pytest.mark.parametrize(
    ("recording", "audio", "problem"),
    [
        ("missing.jsonl", None, "no such recording"),
        (".", None, "holds no messages.jsonl"),
        (str(CHAT1), "missing.wav", "no such audio file"),
    ],
)
def test_what_cannot_be_replayed_is_a_config_error(
    tmp_path: Path, recording: str, audio: str | None, problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem) as info:
        prepare_replay(tmp_path / recording, None if audio is None else tmp_path / audio)
    assert "\n" not in str(info.value)  # one line for the CLI
