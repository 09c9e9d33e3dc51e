"""TranscriptWriter: the final cadence, by hand and on real speech through the real server.

The target is the service's own cadence (``tests/metrics/test_cadence.py`` measures it on
a recorded SaaS session): an ``AddTranscript`` every 0.2–0.6 s of audio at the median,
p90 at most 0.8 s, empty ones during silence with advancing metadata, each followed at
once by an ``AddPartialTranscript``, and never a word held back past ``max_delay``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from smnb.metrics.cadence import final_cadence
from smnb.metrics.stats import quantile
from smnb.server import serve
from smnb.server.pocketsphinx.recognizer import PocketsphinxRecognizer
from smnb.server.protocol.inline import Timed, final_latencies, of, run_inline
from smnb.server.protocol.transcript import (
    FINAL_INTERVAL,
    HEARTBEAT_INTERVAL,
    SILENCE_SETTLE,
    TranscriptWriter,
)
from smnb.server.recognizer import Update, Word
from tests.support.engine_audio import clip
from tests.support.rt_stream import stream

STEP = 0.1  # audio seconds per update in the hand-made sequences

PAUSE = (7.1, 9.1)
"""Where the stitched stream below is silent between its two clips (seconds)."""


def stitched() -> bytes:
    """Real speech with a 2 s pause: two bundled clips, then 1.5 s of silence."""
    gap, tail = np.zeros(32000, np.int16), np.zeros(24000, np.int16)
    first = clip("librivox-ss01-0870")
    assert abs(len(first) / 16000 - PAUSE[0]) < 0.01
    return np.concatenate([first, gap, clip("librispeech-1988-24833-0002"), tail]).tobytes()


def feed_silence(writer: TranscriptWriter, until: float, *, start: float = 0.0) -> Timed:
    out: Timed = []
    for k in range(1, round((until - start) / STEP) + 1):
        at = round(start + k * STEP, 6)
        out += [(at, m) for m in writer.update(Update(processed_until=at))]
    return out


def check_tiling(timed: Timed) -> None:
    finals = [m for _, m in of(timed, "AddTranscript")]
    for before, after in itertools.pairwise(finals):
        assert after["metadata"]["start_time"] == before["metadata"]["end_time"]
    for _, m in of(timed, "AddTranscript"):
        meta = m["metadata"]
        assert meta["end_time"] >= meta["start_time"]
        for r in m["results"]:  # no result reaches before the message's own start
            assert r["start_time"] >= meta["start_time"] - 1e-6, (r, meta)


# --- by hand --------------------------------------------------------------------------


@pytest.mark.parametrize("max_delay", [0.7, 4.0])
def test_empty_finals_step_through_silence(max_delay: float) -> None:
    writer = TranscriptWriter(partials=True, settle_delay=max_delay)
    timed = feed_silence(writer, 6.0)
    finals = of(timed, "AddTranscript")
    lag = min(max_delay, SILENCE_SETTLE)
    assert finals[0][0] == pytest.approx(lag + STEP)  # the first audio it may vouch for
    steps = np.diff([t for t, _ in finals])
    assert np.allclose(steps, 0.4)  # FINAL_INTERVAL, rounded up to the 0.1 s updates
    for t, m in finals:
        assert m["results"] == [] and m["metadata"]["transcript"] == ""
        assert m["metadata"]["end_time"] == pytest.approx(t - lag)  # known silence only
        after = timed[timed.index((t, m)) + 1]
        assert after[1]["message"] == "AddPartialTranscript" and after[0] == t
        assert after[1]["metadata"]["start_time"] == m["metadata"]["end_time"]
    check_tiling(timed)


def test_committed_words_go_out_at_once_whatever_the_cadence() -> None:
    writer = TranscriptWriter(settle_delay=1.0)
    feed_silence(writer, 2.0)  # an empty final went out at 2.0 ...
    word = Word("hello", 1.2, 1.5)
    sent = writer.update(Update(finals=(word,), processed_until=2.05))  # ... 0.05 s before
    assert [m["message"] for m in sent] == ["AddTranscript"]
    assert sent[0]["results"][0]["alternatives"][0]["content"] == "Hello"
    assert sent[0]["metadata"]["end_time"] == pytest.approx(1.5)
    assert writer.update(Update(processed_until=2.1)) == []  # the cadence restarts from it


def test_a_pending_word_holds_the_metadata_and_slows_empty_finals() -> None:
    writer = TranscriptWriter(settle_delay=4.0)
    pending = (Word("hello", 1.2, 1.5),)
    timed: Timed = []
    for k in range(1, 41):
        at = round(k * STEP, 6)
        timed += [(at, m) for m in writer.update(Update(partial=pending, processed_until=at))]
    finals = of(timed, "AddTranscript")
    assert all(m["metadata"]["end_time"] <= 1.2 for _, m in finals)
    stuck = [t for t, m in finals if m["metadata"]["end_time"] == 1.2]
    assert len(stuck) >= 3  # the metadata cannot pass the word: a slower heartbeat
    assert np.all(np.diff(stuck) >= HEARTBEAT_INTERVAL - 1e-6)
    assert np.all(np.diff(stuck) <= HEARTBEAT_INTERVAL + STEP + 1e-6)
    advancing = [t for t, m in finals if m["metadata"]["end_time"] < 1.2]
    assert np.all(np.diff(advancing) <= FINAL_INTERVAL + STEP + 1e-6)
    sent = writer.update(Update(finals=pending, processed_until=4.05))
    assert sent[0]["results"][0]["start_time"] == 1.2  # committed: out at once
    check_tiling(timed + [(4.05, m) for m in sent])


def test_a_late_sentence_end_is_not_placed_before_an_empty_final() -> None:
    writer = TranscriptWriter(settle_delay=0.7)
    writer.update(Update(finals=(Word("hello", 0.2, 0.5),), processed_until=0.6))
    timed = feed_silence(writer, 1.6, start=0.6)  # empty finals pass the word's end
    sent = writer.update(Update(processed_until=1.7, utterance_ends=(0.5,)))
    (period,) = sent[0]["results"]
    assert period["alternatives"][0]["content"] == "."
    assert period["start_time"] == period["end_time"] == sent[0]["metadata"]["start_time"]
    check_tiling(timed + [(1.7, m) for m in sent])


# --- real speech, the real protocol layer and recognizer ------------------------------


@pytest.mark.parametrize("max_delay", [0.7, 1.0, 2.0, 4.0])
def test_cadence_on_real_speech_is_like_the_service(max_delay: float) -> None:
    config = {"max_delay": max_delay, "max_delay_mode": "fixed", "enable_partials": True}
    timed = run_inline(stitched(), config, PocketsphinxRecognizer)
    cadence = final_cadence(timed)
    assert 0.2 <= cadence.median_step <= 0.6, cadence
    assert cadence.p90_step <= 0.8, cadence
    assert cadence.empty_share >= 0.05 and cadence.followed_share >= 0.9, cadence
    in_pause = [
        m
        for _, m in of(timed, "AddTranscript")
        if not m["results"] and PAUSE[0] <= m["metadata"]["start_time"] < PAUSE[1]
    ]
    assert len(in_pause) >= 2, "empty finals step through the pause"
    assert all(m["metadata"]["end_time"] > m["metadata"]["start_time"] for m in in_pause)
    check_tiling(timed)
    latencies = [lat for _, lat in final_latencies(timed)]
    assert len(latencies) > 20
    assert max(latencies) <= max_delay, "the cadence never holds a word back"


# --- through the real server ----------------------------------------------------------


async def session_on_a_fresh_server(pcm: bytes, *, realtime: bool) -> tuple[Timed, list[float]]:
    """A fresh engine each time, so the comparison is about pace alone."""
    config = {"max_delay": 1.0, "max_delay_mode": "fixed", "enable_partials": True}
    async with serve() as url:
        got = await stream(url, pcm, config, chunk=3200, realtime=realtime)
    assert got.messages[-1]["message"] == "EndOfTranscript"
    return got.timed(), got.arrived


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_real_server_sends_the_same_messages_at_real_time_and_fast_pace() -> None:
    pcm = stitched()
    fast, _ = await session_on_a_fresh_server(pcm, realtime=False)
    live, arrived = await session_on_a_fresh_server(pcm, realtime=True)
    assert [m for _, m in live] == [m for _, m in fast]  # acks included: audio time
    assert [t for t, _ in live] == [t for t, _ in fast]
    cadence = final_cadence(live)  # positions from the acks, at 0.1 s resolution
    assert 0.2 <= cadence.median_step <= 0.6 and cadence.p90_step <= 0.8, cadence
    assert cadence.empty_share >= 0.05 and cadence.followed_share >= 0.9, cadence
    # wall clock, real-time audio: finals within max_delay + 0.3 s of the spoken word,
    # and a word's first partial within 0.3 s at the median
    final_wall, first_partial = [], {}
    for (_, msg), wall in zip(live, arrived, strict=True):
        for r in msg.get("results", []):
            if r["type"] != "word":
                continue
            if msg["message"] == "AddTranscript":
                final_wall.append(wall - r["end_time"])
            else:
                first_partial.setdefault(round(r["start_time"], 2), wall - r["end_time"])
    assert len(final_wall) > 20
    assert max(final_wall) <= 1.0 + 0.3, sorted(final_wall)[-5:]
    assert quantile(list(first_partial.values()), 0.5) < 0.3
