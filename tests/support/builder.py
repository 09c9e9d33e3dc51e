"""Hand-built session logs for metric tests: a Recorder on a ManualClock.

``t0`` is 0 by construction (the first audio frame ends at ``chunk`` and is scheduled
at ``chunk``), so a message recorded at ``t`` has ``received_s == t`` and expected
latencies can be written down by hand.
"""

from __future__ import annotations

from typing import Any

from smnb.clock import ManualClock
from smnb.recorder import Recorder

Word = tuple[str, float, float]


def item(content: str, start: float, end: float, kind: str = "word") -> dict[str, Any]:
    result: dict[str, Any] = {
        "type": kind,
        "start_time": start,
        "end_time": end,
        "alternatives": [{"content": content, "confidence": 0.9, "language": "en"}],
    }
    if kind == "punctuation":
        result["attaches_to"] = "previous"
        result["is_eos"] = content in ".?!"
    return result


class SessionLog:
    """Builds one session's records in time order."""

    def __init__(
        self,
        *,
        audio_seconds: float = 4.0,
        chunk: float = 0.1,
        pace: str | None = None,
        **config: Any,
    ) -> None:
        self.clock = ManualClock()
        self.recorder = Recorder(self.clock)
        if pace is not None:  # the transport's Session note, as a real session writes it
            self.recorder.record_meta("Session", {"pace": pace, "chunk_seconds": chunk}, t=0.0)
        cfg = {"language": "en", "enable_partials": True, **config}
        self.recorder.record_sent(
            {
                "message": "StartRecognition",
                "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000},
                "transcription_config": cfg,
            }
        )
        self.recorder.record_received({"message": "RecognitionStarted", "id": "x"}, 0.0)
        n = round(audio_seconds / chunk)
        for k in range(n):
            end = round((k + 1) * chunk, 6)
            self.recorder.record_audio(
                k + 1, 3200, round(k * chunk, 6), end, scheduled_t=end, t=end
            )

    def _transcript(self, kind: str, t: float, words: list[Word], punct: list[Word]) -> None:
        results = [item(c, s, e) for c, s, e in words]
        results += [item(c, s, e, "punctuation") for c, s, e in punct]
        results.sort(key=lambda r: (r["start_time"], -r["end_time"]))
        start = results[0]["start_time"] if results else 0.0
        end = results[-1]["end_time"] if results else 0.0
        text = " ".join(c for c, _, _ in words)
        msg = {
            "message": kind,
            "format": "2.9",
            "metadata": {"start_time": start, "end_time": end, "transcript": text},
            "results": results,
        }
        self.recorder.record_received(msg, t)

    def final(self, t: float, *words: Word, punct: tuple[Word, ...] = ()) -> None:
        self._transcript("AddTranscript", t, list(words), list(punct))

    def partial(self, t: float, *words: Word) -> None:
        self._transcript("AddPartialTranscript", t, list(words), [])

    def eou(self, t: float, at: float) -> None:
        self.recorder.record_received(
            {"message": "EndOfUtterance", "metadata": {"start_time": at, "end_time": at}}, t
        )

    def end_of_stream(self, t: float, last_seq_no: int = 0) -> None:
        self.recorder.record_sent({"message": "EndOfStream", "last_seq_no": last_seq_no}, t=t)

    def end(self, t: float) -> Recorder:
        self.recorder.record_received({"message": "EndOfTranscript"}, t)
        return self.recorder
