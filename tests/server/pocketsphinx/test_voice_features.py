"""smnb.server.pocketsphinx.voice_features: the diarizer's per-frame features on real speech.

Clips from smnb/samples: ``librivox-*`` is one male reader, ``librispeech-1988-*`` one
female reader. Pitch bounds are wide (a voice's median F0: roughly 85–155 Hz for men,
165–255 Hz for women; measured here ≈ 99–108 Hz and ≈ 152–166 Hz).
"""

from __future__ import annotations

import numpy as np
import pytest

from smnb.server.pocketsphinx.voice_features import (
    HOP,
    N_CEPS,
    WINDOW,
    FrameFeatures,
    frame_features,
)
from tests.support.engine_audio import CLIPS, clip, white_noise

MALE = "librivox-ss01-0880"
FEMALE = "librispeech-1988-24833-0000"


def features(audio: np.ndarray, piece: int | None = None) -> FrameFeatures:
    out = FrameFeatures()
    step = piece or max(len(audio), 1)
    for i in range(0, len(audio), step):
        out.push(audio[i : i + step])
    return out


def everything(f: FrameFeatures) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return f.ceps(f.first, f.end), f.energy(f.first, f.end), f.pitch(f.first, f.end)


def speech(energy: np.ndarray) -> np.ndarray:
    """Frames well above the clip's quiet frames (as the diarizer finds speech)."""
    return np.asarray(energy > np.percentile(energy, 10) + 12.0)


def same(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal frames: FFTs of different batch sizes differ in the last bits only."""
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-9)  # NaN == NaN


def median_hz(pitch: np.ndarray) -> float:
    return float(np.exp(np.nanmedian(pitch)))


def test_one_frame_per_hop_once_a_window_is_full() -> None:
    audio = clip(MALE)
    f = features(audio)
    assert f.first == 0
    assert f.end == 1 + (len(audio) - WINDOW) // HOP
    ceps, energy, pitch = everything(f)
    assert ceps.shape == (f.end, N_CEPS) and energy.shape == pitch.shape == (f.end,)
    assert features(audio[: WINDOW - 1]).end == 0
    assert features(audio[:WINDOW]).end == 1


@pytest.mark.parametrize("piece", [1, 159, 160, 1600, 7777])
def test_feeding_in_pieces_gives_the_same_frames_as_all_at_once(piece: int) -> None:
    audio = clip(FEMALE)[: 16000 * 2] if piece == 1 else clip(FEMALE)
    whole = everything(features(audio))
    pieces = everything(features(audio, piece))
    for a, b in zip(whole, pieces, strict=True):
        same(a, b)
    # ... and they are the frames of the stream, computed directly
    idx = np.arange(WINDOW)[None, :] + HOP * np.arange(len(whole[1]))[:, None]
    direct = frame_features(audio.astype(np.float64)[idx])
    for a, b in zip(whole, direct, strict=True):
        same(a, b)


@pytest.mark.parametrize("hz", [100.0, 150.0, 220.0, 300.0])
def test_the_pitch_of_a_steady_tone_is_its_frequency(hz: float) -> None:
    t = np.arange(16000) / 16000
    tone = (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    _, _, pitch = everything(features(tone))
    assert not np.isnan(pitch).any()  # every frame is voiced
    assert median_hz(pitch) == pytest.approx(hz, rel=0.03)


def test_noise_and_silence_are_unvoiced_and_silence_has_no_energy() -> None:
    _, noise_energy, noise_pitch = everything(features(white_noise(2.0, seed=3)))
    assert np.isnan(noise_pitch).mean() > 0.95
    _, energy, pitch = everything(features(np.zeros(16000, dtype=np.int16)))
    assert np.isnan(pitch).all()
    assert energy.max() == 0.0  # 10·log10(0 + 1)
    assert noise_energy.min() > 60.0  # RMS 3000: ≈ 69.5 dB


def test_speech_is_voiced_in_part_and_far_above_its_pauses() -> None:
    for name in (MALE, FEMALE):
        _, energy, pitch = everything(features(clip(name)))
        assert np.percentile(energy, 90) - np.percentile(energy, 10) > 25.0, name
        voiced = ~np.isnan(pitch)
        assert 0.1 < voiced.mean() < 0.8, name
        assert voiced[speech(energy)].mean() > voiced[~speech(energy)].mean(), name


def test_pitch_tells_the_male_reader_from_the_female_reader() -> None:
    male = [median_hz(everything(features(clip(n)))[2]) for n in CLIPS if "librivox" in n]
    female = [median_hz(everything(features(clip(n)))[2]) for n in CLIPS if "librispeech" in n]
    assert all(80.0 < hz < 140.0 for hz in male), male
    assert all(140.0 < hz < 260.0 for hz in female), female


def test_loudness_moves_the_energy_only() -> None:
    # c0 is left out, so a gain (a louder or quieter channel) leaves the cepstra as they are.
    audio = clip(MALE)
    quiet = np.rint(audio.astype(np.float64) * 0.25).astype(np.int16)  # −12.04 dB
    ceps, energy, pitch = everything(features(audio))
    q_ceps, q_energy, q_pitch = everything(features(quiet))
    on = speech(energy)
    np.testing.assert_allclose(energy[on] - q_energy[on], 20 * np.log10(4), atol=0.05)
    assert np.abs(ceps[on] - q_ceps[on]).mean() < 0.05 * np.abs(ceps[on]).mean()
    both = ~np.isnan(pitch) & ~np.isnan(q_pitch)
    assert both.sum() > 0.95 * (~np.isnan(pitch)).sum()
    assert np.abs(pitch[both] - q_pitch[both]).max() < 0.01


def test_slices_are_clipped_to_the_frames_held() -> None:
    f = features(clip(MALE))
    assert len(f.energy(-50, 10)) == 10
    assert len(f.energy(f.end - 5, f.end + 100)) == 5
    assert len(f.ceps(30, 20)) == 0
    assert len(f.pitch(f.end + 1, f.end + 9)) == 0


def test_forgetting_old_frames_keeps_the_recent_ones_unchanged() -> None:
    long = np.concatenate([clip(n) for n in CLIPS])  # ≈ 48 s: more than 4096 frames
    reference = everything(features(long))
    f = FrameFeatures()
    half = len(long) // 2
    f.push(long[:half])
    f.forget_before(100)  # too few frames to be worth moving memory: all kept
    assert f.first == 0
    f.push(long[half:])
    cut = f.end - 200
    f.forget_before(cut)
    assert f.first == cut and f.end == len(reference[1])
    assert len(f.energy(0, cut)) == 0  # forgotten
    for kept, ref in zip(everything(f), reference, strict=True):
        same(kept, ref[cut:])
    # The stream goes on from where it was, indices unchanged.
    more = clip(FEMALE)
    f.push(more)
    after = everything(features(np.concatenate([long, more])))
    same(f.energy(cut, f.end), after[1][cut:])
    same(f.ceps(f.end - 10, f.end), after[0][-10:])
