"""The cepstral-mean meter and the session estimate, on real speech."""

from __future__ import annotations

import numpy as np

from smnb.server.pocketsphinx.cmn import (
    INITIAL_CMN,
    SessionCmn,
    as_string,
    as_vector,
    meter,
    moved,
)
from smnb.server.pocketsphinx.decoder import new_decoder
from tests.support.engine_audio import clip, white_noise


def batch_mean_by_the_decoder(audio: bytes) -> np.ndarray:
    """What the recognizer's own decoder computes as the batch mean of ``audio``."""
    decoder = new_decoder()
    decoder.reinit_feat()  # a fresh front end in the model's batch-CMN mode
    decoder.start_utt()
    decoder.process_raw(audio, full_utt=True)
    decoder.end_utt()
    return as_vector(decoder.get_cmn())


def test_the_meter_measures_exactly_what_the_decoder_normalises_by() -> None:
    audio = clip("librispeech-1988-24833-0002").tobytes()
    mean, frames = meter().measure(audio)
    assert np.allclose(mean, batch_mean_by_the_decoder(audio), atol=1e-4)
    assert abs(frames - len(audio) / 2 / 160) <= 2  # 10 ms frames


def test_a_measurement_depends_on_its_audio_alone() -> None:
    speech = clip("librivox-ss01-0880").tobytes()
    first, _ = meter().measure(speech)
    meter().measure(white_noise(5.0).tobytes())  # anything in between
    meter().measure(clip("cards-005").tobytes())
    again, _ = meter().measure(speech)
    assert np.array_equal(first, again)


def test_the_session_estimate_pools_closed_speech_by_frames() -> None:
    a = clip("librivox-ss01-0880").tobytes()
    b = clip("librispeech-1988-24833-0000").tobytes()
    session = SessionCmn(meter())
    assert np.array_equal(session.estimate(), as_vector(INITIAL_CMN))  # nothing heard yet
    (mean_a, n_a), (mean_b, n_b) = meter().measure(a), meter().measure(b)
    session.close(a)
    assert np.allclose(session.estimate(), mean_a)
    assert session.heard == n_a / 100
    pooled = (mean_a * n_a + mean_b * n_b) / (n_a + n_b)
    assert np.allclose(session.estimate(b), pooled)  # an open unit counts, unclosed
    assert session.heard == n_a / 100
    session.close(b)
    assert np.allclose(session.estimate(), pooled)


def test_two_recordings_have_means_far_apart_and_far_from_the_prior() -> None:
    # Why the mean must be measured: the prior is wrong for both, and differently so.
    male = meter().measure(clip("librivox-ss01-0870").tobytes())[0]
    female = meter().measure(clip("librispeech-1988-24833-0001").tobytes())[0]
    prior = as_vector(INITIAL_CMN)
    assert moved(prior, male) and moved(prior, female) and moved(male, female)
    assert not moved(male, male + 0.5)
    assert np.allclose(as_vector(as_string(male)), male, atol=1e-4)
