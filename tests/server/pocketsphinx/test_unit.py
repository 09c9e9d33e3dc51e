"""UnitDecoder on real speech: fresh front end per unit, re-decoding, confidences."""

from __future__ import annotations

import numpy as np

from smnb.server.pocketsphinx.cmn import SessionCmn, meter, moved
from smnb.server.pocketsphinx.decoder import new_decoder
from smnb.server.pocketsphinx.segmenter import FRAME_BYTES
from smnb.server.pocketsphinx.unit import SAME_WORD, UnitDecoder
from smnb.server.recognizer import Word
from tests.support.engine_audio import clip, white_noise


def decode(unit: UnitDecoder, audio: bytes) -> list[tuple[Word, ...]]:
    """Feed ``audio`` frame by frame as the recognizer does; the first pass after each."""
    unit.start(0)
    passes = []
    for offset in range(0, len(audio) - len(audio) % FRAME_BYTES, FRAME_BYTES):
        unit.feed(audio[offset : offset + FRAME_BYTES])
        passes.append(unit.first_pass((offset + FRAME_BYTES) / 32000))
    return passes


def test_every_unit_starts_from_the_same_front_end_state() -> None:
    audio = clip("librivox-ss01-0930").tobytes()
    first = UnitDecoder(new_decoder(), SessionCmn(meter()), {})
    expected = decode(first, audio), first.finish()
    used = new_decoder()
    dirty = UnitDecoder(used, SessionCmn(meter()), {})
    decode(dirty, white_noise(5.0).tobytes())  # moves the decoder's noise estimate and CMN
    dirty.finish()
    again = UnitDecoder(used, SessionCmn(meter()), {})
    assert (decode(again, audio), again.finish()) == expected


def test_first_pass_confidence_is_the_share_of_right_context_the_word_was_held() -> None:
    unit = UnitDecoder(new_decoder(), SessionCmn(meter()), {})
    passes = decode(unit, clip("librispeech-1988-24833-0002").tobytes())
    unit.finish()
    last = passes[-1]
    assert all(0.0 <= w.confidence <= 1.0 for p in passes for w in p)
    # A settled word has been held for most of its context (it appears ~0.1 s after its end).
    assert max(w.confidence for w in last) > 0.9
    assert np.median([w.confidence for w in last]) > 0.6
    changing = [w for p in passes for w in p if 0.0 < w.confidence < 1.0]
    assert changing  # the search did change its mind somewhere, and that shows
    for i in range(1, len(passes)):
        now = (i + 1) * FRAME_BYTES / 32000
        for word in passes[i]:
            new = all(
                p.content != word.content or abs(p.start_time - word.start_time) > SAME_WORD
                for p in passes[i - 1]
            )
            if new:  # not held for any of its context yet (unless it is still being spoken)
                assert word.confidence == 0.0 or word.end_time >= now - 1e-9, word


def test_bestpath_finals_carry_lattice_posteriors() -> None:
    unit = UnitDecoder(new_decoder(), SessionCmn(meter()), {})
    decode(unit, clip("librivox-ss01-0870").tobytes())
    words = unit.finish()
    confidences = np.array([w.confidence for w in words])
    assert len(words) > 10 and not unit.in_unit
    assert ((confidences >= 0) & (confidences <= 1)).all() and confidences.std() > 0.05


def test_retune_re_decodes_from_the_anchor_with_the_new_mean_and_closes_the_rest() -> None:
    session = SessionCmn(meter())
    unit = UnitDecoder(new_decoder(), session, {})
    audio = clip("librispeech-1988-24833-0001").tobytes()
    decode(unit, audio[: 32000 * 3])
    mean = unit.estimate()
    assert moved(unit.mean, mean)  # the prior was far from this recording
    unit.retune(mean, from_sample=16000)  # keep 1 s .. 3 s
    assert np.array_equal(unit.mean, mean)
    assert unit.start_sample == 16000 and len(unit.audio) == 2 * 32000
    assert session.heard > 0.9  # the first second joined the closed speech
    assert unit.redecoded >= 2.0
    unit.feed(audio[32000 * 3 : 32000 * 4])
    words = unit.finish()
    assert words and all(w.start_time >= 1.0 for w in words)
