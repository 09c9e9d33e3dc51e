"""How a Result shows itself: a compact text repr and an HTML card for notebooks.

Both read only the Result's public, already-scrubbed properties, and escape
everything that came from the network.

Imports nothing outside the stdlib at runtime (the Result type is for checking only).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from smnb.protocol.config import DEFAULT_MAX_DELAY
from smnb.recorder import META, SENT
from smnb.recorder.sanitize import scrub_text

if TYPE_CHECKING:
    from smnb.result.result import Result

PREVIEW_CHARS = 120

FAST_PACE_NOTE = "not meaningful at fast pace (audio sent faster than real time)"
"""What every view says instead of a latency figure at ``fast`` pace."""


def _preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    flat = " / ".join(line for line in text.splitlines() if line)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


TIMED_PACES = ("realtime", "live")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _max_delay(result: Result) -> str:
    config = (result.config or {}).get("transcription_config") or {}
    value = config.get("max_delay")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"max_delay {value:g} s"
    return f"max_delay {DEFAULT_MAX_DELAY:g} s (not set: the API's default)"


def _session_note(result: Result) -> dict[str, object]:
    for rec in result.recorder.snapshot():
        if rec.direction == META and rec.type == "Session":
            return dict(rec.payload or {})
    return {}


def _end_of_stream_i(result: Result) -> int | None:
    for rec in result.recorder.snapshot():
        if rec.direction == SENT and rec.type == "EndOfStream":
            return rec.i
    return None


def _latency(result: Result, n_words: int) -> str:
    """The latency line: quantiles, the max_delay in force and what the flush decided."""
    pace = _session_note(result).get("pace")
    if not result.latency_meaningful or (pace is not None and pace not in TIMED_PACES):
        return f"not measured (pace {pace}: {FAST_PACE_NOTE})"
    p50, p95 = result.final_latency(0.5), result.final_latency(0.95)
    line = f"p50 {_seconds(p50)}, p95 {_seconds(p95)} at {_max_delay(result)}"
    eos = _end_of_stream_i(result)
    if eos is not None and n_words:
        words = result.words
        lexical = words["type"].isin(["word", "entity"])
        flushed = int((lexical & (words["message_i"] > eos)).sum())
        line += f"; {flushed} of {n_words} words came with the end-of-stream flush"
    return line


def _facts(result: Result) -> list[tuple[str, str]]:
    """(label, value) pairs shared by both views, in the words the tables use."""
    words = result.words
    n_words = int(words["type"].isin(["word", "entity"]).sum())
    n_punct = int((words["type"] == "punctuation").sum())
    ev = result.events
    final_words = f"{n_words}"
    if n_punct:
        final_words += f" (+{_plural(n_punct, 'punctuation mark')})"
    final_words += f" in {_plural(len(result.utterances), 'utterance')}"
    rows = [
        ("source", result.source or "–"),
        ("state", result.state),
        ("session id", result.session_id or "–"),
        ("url", result.url or "–"),
        ("audio", _seconds(result.audio_seconds)),
        ("records", str(len(result.recorder))),
        ("final words", final_words),
        ("partial transcripts", str(int((result.transcripts["kind"] == "partial").sum()))),
        ("final latency", _latency(result, n_words)),
        (
            "warnings / errors",
            f"{int((ev['message'] == 'Warning').sum())} / {int((ev['message'] == 'Error').sum())}",
        ),
    ]
    gaps = result.reconnections
    if gaps:
        shown = ", ".join(
            f"{g.get('gap_s') or 0:.2f} s gap at {g.get('audio_offset') or 0:.2f} s of audio"
            for g in gaps[:3]
        )
        more = f" (+{len(gaps) - 3} more)" if len(gaps) > 3 else ""
        rows.append(("reconnected", f"{len(gaps)}×: {shown}{more}"))
    error = result.error
    if error is not None:
        rows.append(("error", f"{type(error).__name__}: {scrub_text(str(error))}"))
    return rows


def text_summary(result: Result) -> str:
    """A few lines: what, state, counts, latency, the start of the text."""
    facts = dict(_facts(result))
    head = f"<Result {facts['source']!r}: {facts['state']}, {facts['audio']} audio>"
    lines = [
        head,
        f"  final words: {facts['final words']}; partial transcripts:"
        f" {facts['partial transcripts']}; records: {facts['records']}",
        f"  final latency {facts['final latency']}",
    ]
    if "reconnected" in facts:
        lines.append(f"  reconnected {facts['reconnected']}")
    if "error" in facts:
        lines.append(f"  error: {facts['error']}")
    lines.append(f"  text: {_preview(result.text)!r}")
    return "\n".join(lines)


def html_summary(result: Result) -> str:
    """A small table of facts followed by the transcript preview."""
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
        f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
        for k, v in _facts(result)
    )
    preview = html.escape(_preview(result.text, 600)) or "<i>no final words</i>"
    return (
        "<div class='smnb-result'><b>smnb Result</b>"
        f"<table>{cells}</table>"
        f"<blockquote style='white-space:pre-wrap'>{preview}</blockquote></div>"
    )
