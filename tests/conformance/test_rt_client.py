"""The official ``speechmatics-rt`` client, unchanged, against the real smnb server.

Each test uses the client as its documentation shows (``AsyncClient`` with an
event handler per message type) and checks what a user would: a sensible
transcript of real speech, the messages the client parses, and that the session
ends the way the client expects.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from speechmatics.rt import (
    AsyncClient,
    AsyncMultiChannelClient,
    AudioEncoding,
    AudioFormat,
    ConversationConfig,
    ServerMessageType,
    SpeakerDiarizationConfig,
    TranscriptionConfig,
    TranscriptionError,
    TranscriptResult,
)

from .conftest import SAMPLES, WER_BOUND, reference, wer

pytestmark = pytest.mark.timeout(180)


class Collector:
    """Every message the client dispatched, by type."""

    def __init__(self, client: AsyncClient | AsyncMultiChannelClient) -> None:
        self.by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.order: list[str] = []
        self.end = asyncio.Event()
        for kind in ServerMessageType:
            client.on(kind, self._add)

    def _add(self, msg: dict[str, Any]) -> None:
        self.by_type[msg["message"]].append(msg)
        self.order.append(msg["message"])
        if msg["message"] == "EndOfTranscript":
            self.end.set()

    def finals(self, channel: str | None = None) -> str:
        return "".join(
            m["metadata"]["transcript"]
            for m in self.by_type["AddTranscript"]
            if channel is None or m.get("channel") == channel
        )


def pcm16(name: str) -> bytes:
    audio, rate = sf.read(SAMPLES / f"{name}.wav", dtype="int16")
    assert rate == 16000
    return bytes(audio.tobytes())


@pytest.mark.parametrize("name", ["librivox-ss01-0870", "librispeech-1988-24833-0001"])
async def test_transcribe_a_wav_file_with_the_default_config(server_url: str, name: str) -> None:
    # The README path: type "file" audio, model "enhanced", no api key ("Bearer None").
    async with AsyncClient(url=server_url) as client:
        seen = Collector(client)
        with open(SAMPLES / f"{name}.wav", "rb") as audio:
            await client.transcribe(audio, transcription_config=TranscriptionConfig(language="en"))
        assert client.session_id == seen.by_type["RecognitionStarted"][0]["id"]
    assert seen.end.is_set()
    assert seen.order[-1] == "EndOfTranscript"
    assert wer(reference(name), seen.finals()) <= WER_BOUND, seen.finals()
    for msg in seen.by_type["AddTranscript"]:  # the client's own parser accepts every final
        parsed = TranscriptResult.from_message(msg)
        assert parsed.metadata.transcript == msg["metadata"]["transcript"]


async def test_raw_pcm_with_partials_and_low_max_delay(server_url: str) -> None:
    name = "librivox-ss01-0870"
    data = pcm16(name)
    config = TranscriptionConfig(language="en", enable_partials=True, max_delay=1.0)
    fmt = AudioFormat(encoding=AudioEncoding.PCM_S16LE, sample_rate=16000, chunk_size=4096)
    async with AsyncClient(url=server_url) as client:
        seen = Collector(client)
        await client.transcribe(io.BytesIO(data), transcription_config=config, audio_format=fmt)
    assert wer(reference(name), seen.finals()) <= WER_BOUND, seen.finals()
    acks = [m["seq_no"] for m in seen.by_type["AudioAdded"]]
    assert acks == list(range(1, -(-len(data) // 4096) + 1))
    partials = seen.by_type["AddPartialTranscript"]
    assert len(partials) >= 7.1 / 0.4  # on the audio cadence, not once per final
    assert any(p["results"] for p in partials)
    for msg in partials:
        TranscriptResult.from_message(msg)
    # max_delay 1.0 s: several small finals rather than one at the end
    assert len([m for m in seen.by_type["AddTranscript"] if m["results"]]) >= 4


async def test_force_end_of_utterance_mid_stream(server_url: str) -> None:
    data = pcm16("librivox-ss01-0870")
    fmt = AudioFormat(encoding=AudioEncoding.PCM_S16LE, sample_rate=16000, chunk_size=4096)
    async with AsyncClient(url=server_url) as client:
        seen = Collector(client)
        forced = asyncio.Event()
        client.on(ServerMessageType.END_OF_UTTERANCE, lambda msg: forced.set())
        await client.start_session(
            transcription_config=TranscriptionConfig(language="en", max_delay=4.0),
            audio_format=fmt,
        )
        half = len(data) // 2 // 4096 * 4096
        for i in range(0, half, 4096):
            await client.send_audio(data[i : i + 4096])
        await client.force_end_of_utterance()  # with the default timestamp (seconds sent)
        await asyncio.wait_for(forced.wait(), 30)
        for i in range(half, len(data), 4096):
            await client.send_audio(data[i : i + 4096])
        await client.stop_session()
    eou = seen.by_type["EndOfUtterance"][0]
    assert eou["forced"] is True
    before = seen.by_type["AddTranscript"]
    forced_final = next(m for m in before if m.get("forced"))
    assert forced_final["results"], "the forced final commits the words heard so far"
    assert forced_final["results"][-1]["end_time"] <= half / 32000 + 0.1
    assert seen.by_type["Warning"] == []  # its timestamp is where the forced end falls
    assert wer(reference("librivox-ss01-0870"), seen.finals()) <= WER_BOUND


async def test_end_of_utterance_silence_trigger(server_url: str) -> None:
    config = TranscriptionConfig(
        language="en",
        max_delay=2.0,
        conversation_config=ConversationConfig(end_of_utterance_silence_trigger=0.5),
    )
    async with AsyncClient(url=server_url) as client:
        seen = Collector(client)
        with open(SAMPLES / "two-speakers.wav", "rb") as audio:
            await client.transcribe(audio, transcription_config=config)
    eous = seen.by_type["EndOfUtterance"]
    assert 3 <= len(eous) <= 12  # about one per sentence (7 sentences, 0.5 s gaps)
    times = [e["metadata"]["end_time"] for e in eous]
    assert times == sorted(times) and len(set(times)) == len(times)  # never twice
    for i, kind in enumerate(seen.order):
        if kind == "EndOfUtterance":
            assert "AddTranscript" in seen.order[i - 3 : i]


async def test_speaker_diarization_and_get_speakers(server_url: str) -> None:
    config = TranscriptionConfig(
        language="en",
        diarization="speaker",
        speaker_diarization_config=SpeakerDiarizationConfig(max_speakers=4),
    )
    async with AsyncClient(url=server_url) as client:
        seen = Collector(client)
        with open(SAMPLES / "two-speakers.wav", "rb") as audio:
            await client.start_session(transcription_config=config)
            while chunk := audio.read(4096):
                await client.send_audio(chunk)
        await client.send_message({"message": "GetSpeakers", "final": True})
        await client.stop_session()
    words = [r for m in seen.by_type["AddTranscript"] for r in m["results"]]
    labels = {r["alternatives"][0]["speaker"] for r in words}
    assert labels and all(re.fullmatch(r"S\d+|UU", label) for label in labels)
    assert seen.order[-2:] == ["SpeakersResult", "EndOfTranscript"]
    speakers = seen.by_type["SpeakersResult"][0]["speakers"]
    assert {s["label"] for s in speakers} <= labels
    assert wer(reference("two-speakers"), seen.finals()) <= WER_BOUND


async def test_server_error_reaches_the_client(server_url: str) -> None:
    async with AsyncClient(url=server_url) as client:
        with pytest.raises(TranscriptionError, match="not supported"):
            await client.start_session(transcription_config=TranscriptionConfig(language="fr"))


async def test_multichannel_client(server_url: str) -> None:
    stereo, rate = sf.read(SAMPLES / "stereo-two-channels.wav", dtype="int16")
    sources = {}
    for i, label in enumerate(("left", "right")):
        buf = io.BytesIO()
        sf.write(buf, np.ascontiguousarray(stereo[:, i]), rate, format="WAV", subtype="PCM_16")
        buf.seek(0)
        sources[label] = buf
    async with AsyncMultiChannelClient(url=server_url) as client:
        seen = Collector(client)
        await client.transcribe(sources, transcription_config=TranscriptionConfig(language="en"))
        # Known client bug: transcribe() returns right after EndOfChannel and leaving the
        # context closes the socket, dropping the last finals. Waiting here (the client is
        # still connected and dispatching) is what a user has to do to get them.
        await asyncio.wait_for(seen.end.wait(), 60)
    started = seen.by_type["RecognitionStarted"][0]
    assert started["channel_ids"] == ["left", "right"]
    for label in ("left", "right"):
        acks = [m["seq_no"] for m in seen.by_type["ChannelAudioAdded"] if m["channel"] == label]
        assert acks == list(range(1, len(acks) + 1)) and acks
    for msg in seen.by_type["AddTranscript"]:
        assert msg["channel"] in ("left", "right")
        assert all(r["channel"] == msg["channel"] for r in msg["results"])
    expected: dict[str, list[str]] = {"left": [], "right": []}
    for turn in json.loads((SAMPLES / "stereo-two-channels.channels.json").read_text()):
        expected[turn["channel"]].append(turn["text"])
    for label, texts in expected.items():
        assert wer(" ".join(texts), seen.finals(label)) <= WER_BOUND, (label, seen.finals(label))
