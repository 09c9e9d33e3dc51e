"""The reference audio: found beside the recording, rendered as its client sent it."""

from __future__ import annotations

import hashlib
import shutil
import wave
from pathlib import Path

import pytest

from smnb.exceptions import ConfigError
from smnb.server.replay import load_recording
from smnb.server.replay.reference import find_reference, load_reference, reference_for
from tests.support.table_sessions import fixture

SAMPLES = Path(__file__).resolve().parents[3] / "smnb" / "samples"
WAV = SAMPLES / "audio_01_16kHz.wav"
RAW16 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}


def pcm_of(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        return w.readframes(w.getnframes())


def test_the_saas_recordings_audio_is_found_beside_it_and_rendered_as_sent() -> None:
    ref = reference_for(load_recording(SAMPLES / "chat1.jsonl"))
    assert ref is not None and ref.path == WAV
    assert ref.data == pcm_of(WAV)  # 16 kHz mono s16 already: the samples as they are
    assert ref.seconds == pytest.approx(446571 / 16000)
    assert ref.sha256 == hashlib.sha256(ref.data).hexdigest()


def test_an_smnb_recordings_audio_is_looked_for_beside_it_and_one_level_up(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(fixture("simple"), out / "messages.jsonl")
    rec = load_recording(out)  # its Session note names hello.wav
    assert find_reference(rec) is None
    assert reference_for(rec) is None  # then only the length is checked
    shutil.copy(SAMPLES / "librivox-ss01-0870.wav", tmp_path / "hello.wav")
    assert find_reference(rec) == tmp_path / "hello.wav"


def test_other_formats_render_their_own_way() -> None:
    file = load_reference(WAV, {"type": "file"})
    assert file is not None and file.data == WAV.read_bytes()
    eight = load_reference(WAV, {**RAW16, "sample_rate": 8000})
    assert eight is not None and len(eight.data) == pytest.approx(len(pcm_of(WAV)) / 2, abs=4)
    assert load_reference(WAV, {**RAW16, "encoding": "pcm_f32le"}) is None  # length only


def test_an_unusable_audio_file_is_a_config_error(tmp_path: Path) -> None:
    rec = load_recording(fixture("simple"))
    with pytest.raises(ConfigError, match="no such audio file"):
        reference_for(rec, tmp_path / "missing.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all" * 10)
    with pytest.raises(ConfigError, match="the reference audio cannot be used"):
        reference_for(rec, junk)
