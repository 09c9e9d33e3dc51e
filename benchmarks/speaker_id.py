"""Speaker identification across sessions, measured on the bundled readers.

For each ``librivox-*`` (one man) and ``librispeech-*`` (one woman) clip in ``smnb/samples``:
enrol the same reader from all their *other* clips (one session, 0.5 s gaps, ~15-25 s,
identifiers from ``speakers()``), then decode the held-out clip with that enrolment and
count the words given the enrolled label; then the same with the other reader enrolled
(every enrolled label there is a false identification). Prints per clip and the totals.
max_delay 2, fixed; one decoder in order, as a worker serving consecutive sessions.

    python benchmarks/speaker_id.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

from smnb.server.pocketsphinx.decoder import new_decoder
from smnb.server.pocketsphinx.recognizer import PocketsphinxRecognizer
from smnb.server.recognizer import RecognizerSettings, Word

SAMPLES = Path(__file__).resolve().parents[1] / "smnb" / "samples"
READERS = {
    "man": sorted(p.stem for p in SAMPLES.glob("librivox-*.wav")),
    "woman": sorted(p.stem for p in SAMPLES.glob("librispeech-*.wav")),
}
DECODER = new_decoder()


def audio(names: list[str]) -> np.ndarray:
    gap = np.zeros(8000, dtype=np.int16)
    parts = [soundfile.read(SAMPLES / f"{n}.wav", dtype="int16")[0] for n in names]
    return np.concatenate([np.concatenate([p, gap]) for p in parts])


def run(samples: np.ndarray, **settings: object) -> tuple[list[Word], dict[str, list[str]]]:
    options = RecognizerSettings(
        max_delay=2.0,
        max_delay_mode="fixed",
        speaker_diarization=True,
        **settings,  # type: ignore[arg-type]
    )
    recognizer = PocketsphinxRecognizer(options, decoder=DECODER)
    words: list[Word] = []
    for i in range(0, len(samples), 1600):
        words += recognizer.feed(samples[i : i + 1600]).finals
    words += recognizer.finish().finals
    speakers = recognizer.speakers()
    recognizer.close()
    return words, speakers


def enrol(names: list[str]) -> tuple[str, ...]:
    words, speakers = run(audio(names))
    main = max(speakers, key=lambda label: sum(w.speaker == label for w in words))
    return tuple(speakers[main])


def main() -> None:
    found = missed = false = checked_other = 0
    for reader, clips in READERS.items():
        other = next(r for r in READERS if r != reader)
        stranger = enrol(READERS[other])
        for held in clips:
            same = enrol([c for c in clips if c != held])
            words, _ = run(audio([held]), known_speakers=(("Enrolled", same),))
            share = sum(w.speaker == "Enrolled" for w in words) / max(1, len(words))
            words_x, _ = run(audio([held]), known_speakers=(("Enrolled", stranger),))
            wrong = sum(w.speaker == "Enrolled" for w in words_x)
            found += share >= 0.5
            missed += share < 0.5
            false += wrong > 0
            checked_other += 1
            print(f"{held:32s} same reader: {share:4.0%} of words named; "
                  f"other reader enrolled: {wrong} words wrongly named")  # fmt: skip
    print(f"clips identified (>= half their words): {found} of {found + missed}")
    print(f"clips with any word wrongly named:      {false} of {checked_other}")


if __name__ == "__main__":
    main()
