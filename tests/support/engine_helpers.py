"""Cheap recognizers for engine-pool tests (importable by worker processes).

The pool pickles its factory by reference, so these live in a module of their own that a
worker can import as ``tests.support.engine_helpers``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from smnb.server.recognizer import SAMPLE_RATE, RecognizerSettings, Samples, Update, Word


class CountingRecognizer:
    """Says "word" once per second of audio; reports its process id as a speaker."""

    def __init__(self, settings: RecognizerSettings) -> None:
        self.settings = settings
        self.samples = 0

    def feed(self, samples: Samples) -> Update:
        before = self.samples // SAMPLE_RATE
        self.samples += len(samples)
        words = tuple(
            Word("word", float(s), s + 0.5) for s in range(before, self.samples // SAMPLE_RATE)
        )
        return Update(finals=words, processed_until=self.samples / SAMPLE_RATE)

    def force_end_of_utterance(self) -> Update:
        return Update(processed_until=self.samples / SAMPLE_RATE)

    def finish(self) -> Update:
        return Update(processed_until=self.samples / SAMPLE_RATE, utterance_ends=(0.5,))

    def speakers(self) -> dict[str, list[str]]:
        return {"S1": [str(os.getpid())]}


class FailingRecognizer(CountingRecognizer):
    """Raises on feed, as a buggy recognizer would."""

    def feed(self, samples: Samples) -> Update:
        raise ValueError(f"cannot decode {len(np.asarray(samples))} samples")


def counting(settings: RecognizerSettings) -> CountingRecognizer:
    return CountingRecognizer(settings)


def failing(settings: RecognizerSettings) -> CountingRecognizer:
    return FailingRecognizer(settings)


class SlowRecognizer(CountingRecognizer):
    """Takes two seconds per feed, like a decoder stuck on a long utterance."""

    seconds_per_feed = 2.0

    def feed(self, samples: Samples) -> Update:
        time.sleep(self.seconds_per_feed)
        return super().feed(samples)


def slow(settings: RecognizerSettings) -> CountingRecognizer:
    return SlowRecognizer(settings)


class PausingRecognizer(SlowRecognizer):
    """Takes half a second per feed: long enough for a client to leave mid-feed."""

    seconds_per_feed = 0.5


def pausing(settings: RecognizerSettings) -> CountingRecognizer:
    return PausingRecognizer(settings)


BURN_CPU_PER_AUDIO_SECOND = 0.1
"""What :class:`BurningRecognizer` costs: CPU seconds per second of audio it is fed."""


class BurningRecognizer(CountingRecognizer):
    """Spends :data:`BURN_CPU_PER_AUDIO_SECOND` of CPU time on every second of audio."""

    def feed(self, samples: Samples) -> Update:
        due = time.process_time() + BURN_CPU_PER_AUDIO_SECOND * len(samples) / SAMPLE_RATE
        while time.process_time() < due:
            pass
        return super().feed(samples)


def burning(settings: RecognizerSettings) -> CountingRecognizer:
    return BurningRecognizer(settings)
