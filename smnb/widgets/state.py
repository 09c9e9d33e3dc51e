"""What a live transcript view shows, computed from records alone.

:class:`TranscriptState` folds :class:`~smnb.recorder.Record` objects, one at a
time, into finalized tokens, the current partial per channel and the status
counters (audio seconds sent, messages received, latency of the last final).
:func:`render_transcript_html` and :func:`render_status_html` turn it into the
HTML strings the widgets display. Tokens, joining, the word delimiter and
speaker turns are :mod:`smnb.protocol.text`'s, the same model the tables and the
CLI render with. Nothing here touches ipywidgets, so the logic is unit-tested
without a front end and the widget layer stays a thin shell.

Must not import: ipywidgets, anywidget, asyncio, websockets, smnb.session, pandas.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from smnb.protocol.text import (
    DEFAULT_DELIMITER,
    Token,
    announced_delimiter,
    delimiter_for,
    join,
    labelled,
    requested_language,
    tokens_of,
    turns,
)
from smnb.recorder import META, RECEIVED, SENT, Record

PARTIAL_COLOR = "#8a8a8a"
"""Grey for the provisional text (readable on light and dark themes)."""


@dataclass
class TranscriptState:
    """Everything the live view displays, updated record by record.

    ``phase`` is one of ``idle``, ``connecting``, ``streaming``, ``ending``,
    ``done``, ``error`` or ``closed``.
    """

    finals: dict[str | None, list[Token]] = field(default_factory=dict)
    partials: dict[str | None, list[Token]] = field(default_factory=dict)
    phase: str = "idle"
    audio_seconds_sent: float = 0.0
    frames_sent: int = 0
    messages_received: int = 0
    n_partials: int = 0
    n_finals: int = 0
    last_final_latency: float | None = None
    error: str | None = None
    warning: str | None = None
    t0: float | None = None  # audio clock origin: when sample 0 was (as if) spoken
    pace: str | None = None  # from the Session note: "realtime", "live", "fast", …
    delimiter: str = DEFAULT_DELIMITER  # the session's word delimiter
    last_i: int = -1

    # --- folding records ------------------------------------------------------

    def apply(self, record: Record) -> bool:
        """Fold one record in; returns True when the session has just ended."""
        self.last_i = max(self.last_i, record.i)
        if record.direction == SENT:
            self._apply_sent(record)
            return False
        if record.direction == META:
            return self._apply_meta(record)
        if record.direction == RECEIVED:
            return self._apply_received(record)
        return False

    def _apply_sent(self, record: Record) -> None:
        if record.type in ("AddAudio", "AddChannelAudio"):
            self.frames_sent += 1
            if record.audio_end is not None:
                self.audio_seconds_sent = max(self.audio_seconds_sent, record.audio_end)
                if self.t0 is None:
                    scheduled = record.scheduled_t if record.scheduled_t is not None else record.t
                    self.t0 = scheduled - record.audio_end
        elif record.type == "StartRecognition":
            self.phase = "connecting"
            self.delimiter = delimiter_for(requested_language(record.payload or {}))
        elif record.type == "EndOfStream" and self.phase == "streaming":
            self.phase = "ending"

    def _apply_meta(self, record: Record) -> bool:
        payload = record.payload or {}
        if record.type == "Session":
            pace = payload.get("pace")
            self.pace = str(pace) if pace is not None else None
            if self.phase == "idle":
                self.phase = "connecting"
        elif record.type == "ClientError":  # the session's one outcome: it has ended
            self.error = f"{payload.get('error', 'error')}: {payload.get('message', '')}"
            self.phase = "error"
            return True
        elif record.type == "Problem":  # survived (a bad frame): shown, the session goes on
            self.warning = f"{payload.get('error', 'problem')}: {payload.get('message', '')}"
        elif record.type == "Closed":
            if self.phase not in ("done", "error"):
                self.phase = "closed"
            return True
        return False

    def _apply_received(self, record: Record) -> bool:
        self.messages_received += 1
        msg = record.payload or {}
        kind = record.type
        channel = _channel_of(msg, record)
        if kind == "RecognitionStarted":
            if self.phase in ("idle", "connecting"):
                self.phase = "streaming"
            announced = announced_delimiter(msg)
            self.delimiter = self.delimiter if announced is None else announced
        elif kind == "AddPartialTranscript":
            self.n_partials += 1
            self.partials[channel] = tokens_of(msg)
        elif kind == "AddTranscript":
            self._apply_final(msg, channel, record.t)
        elif kind == "Warning":
            self.warning = str(msg.get("reason") or msg.get("type") or "warning")
        elif kind == "Error":
            self.error = f"{msg.get('type', 'error')}: {msg.get('reason', '')}"
            self.phase = "error"
            return True
        elif kind == "EndOfTranscript":
            if self.phase != "error":
                self.phase = "done"
            return True
        return False

    def _apply_final(self, msg: dict[str, Any], channel: str | None, t: float) -> None:
        self.n_finals += 1
        tokens = tokens_of(msg)
        if not tokens:
            return
        self.finals.setdefault(channel, []).extend(tokens)
        end = max(_end(tok) for tok in tokens)
        # The final supersedes the partial words it covers; keep the provisional tail.
        partials = self.partials.get(channel, [])
        self.partials[channel] = [p for p in partials if _start(p) >= end]
        words_end = [_end(tok) for tok in tokens if not tok.glue_prev] or [end]
        if self.t0 is not None:
            self.last_final_latency = (t - self.t0) - max(words_end)

    # --- views of the state -----------------------------------------------------

    @property
    def channels(self) -> list[str | None]:
        """Channel labels in order of first appearance (``[None]`` for one stream)."""
        seen = list(dict.fromkeys([*self.finals, *self.partials]))
        return seen or [None]

    @property
    def diarized(self) -> bool:
        """True once any token carries a speaker label."""
        return any(
            tok.speaker is not None
            for group in (*self.finals.values(), *self.partials.values())
            for tok in group
        )

    @property
    def multichannel(self) -> bool:
        """True once any text came from a labelled channel."""
        return any(channel is not None for channel in self.channels)

    def final_text(self, channel: str | None = None) -> str:
        """The finalized text, one line per speaker turn, labelled like ``Result.text``.

        With ``channel`` that channel's lines (speaker labels only); without it every
        channel's lines, channel by channel, each prefixed ``"<channel> <speaker>: "``
        (:func:`~smnb.protocol.text.labelled`) when the session is multichannel or diarized.
        """
        if channel is not None:
            return "\n".join(self.text_lines(channel, labels=False, partial=False))
        lines = (self.text_lines(ch, partial=False) for ch in self.channels)
        return "\n".join(line for block in lines for line in block)

    def text_lines(self, channel: str | None, *, labels: bool = True, partial: bool) -> list[str]:
        """One channel's labelled lines; with ``partial`` its current partial in ``[…]``."""
        shown = channel if labels and self.multichannel else None
        diarized = self.diarized
        lines: list[str] = []
        last: str | None = None
        for speaker, tokens in turns(self.finals.get(channel, [])):
            body = join(tokens, self.delimiter)
            lines.append(labelled(body, shown, speaker if diarized else None))
            last = speaker
        tail = self.partials.get(channel, []) if partial else []
        if tail:
            text, speaker = f"[{join(tail, self.delimiter)}]", tail[0].speaker
            if lines and not (diarized and speaker != last):
                lines[-1] += " " + text  # the provisional tail of the same turn
            else:
                lines.append(labelled(text, shown, speaker if diarized else None))
        return lines

    def partial_text(self, channel: str | None = None) -> str:
        """The current partial of one channel (all channels, joined, when None)."""
        keys = [channel] if channel is not None else list(self.partials)
        texts = (join(self.partials.get(k, []), self.delimiter) for k in keys)
        return " ".join(t for t in texts if t)

    @property
    def finished(self) -> bool:
        """True once the session has ended, successfully or not."""
        return self.phase in ("done", "error", "closed")


def _channel_of(msg: dict[str, Any], record: Record) -> str | None:
    channel = msg.get("channel", record.channel)
    if channel is None:
        results = msg.get("results") or []
        if results and isinstance(results[0], dict):
            channel = results[0].get("channel")
    return str(channel) if channel is not None else None


def _start(tok: Token) -> float:
    return tok.start_time if tok.start_time is not None else 0.0  # untimed: at the start


def _end(tok: Token) -> float:
    return tok.end_time if tok.end_time is not None else 0.0


# --- rendering ------------------------------------------------------------------


def _label(text: str) -> str:
    return f'<b class="smnb-label">{html.escape(text)}:</b> '


def _channel_html(state: TranscriptState, channel: str | None, max_chars: int) -> str:
    finals = state.finals.get(channel, [])
    partial = state.partials.get(channel, [])
    diarized = state.diarized
    parts: list[str] = []
    # Keep only the newest finals beyond max_chars: the view is for watching, the
    # Result keeps everything.
    size, keep = 0, len(finals)
    while keep > 0 and size + len(finals[keep - 1].content) + 1 <= max_chars:
        keep -= 1
        size += len(finals[keep].content) + 1
    if keep:
        finals = finals[keep:]
        parts.append('<span class="smnb-cut">… </span>')
    last_speaker: str | None = None
    for speaker, tokens in turns(finals):
        text = join(tokens, state.delimiter)
        if diarized:
            parts.append("<br>" if parts else "")
            parts.append(_label(speaker or "UU"))
        elif parts:
            parts.append(" ")
        parts.append(f'<span class="smnb-final">{html.escape(text)}</span>')
        last_speaker = speaker
    if partial:
        text = join(partial, state.delimiter)
        speaker = partial[0].speaker
        if diarized and speaker != last_speaker:
            parts.append("<br>" if parts else "")
            parts.append(_label(speaker or "UU"))
        elif parts and not partial[0].glue_prev:
            parts.append(state.delimiter)
        parts.append(
            f'<span class="smnb-partial" style="color:{PARTIAL_COLOR}">{html.escape(text)}</span>'
        )
    body = "".join(parts)
    if channel is not None:
        body = f'<b class="smnb-channel">[{html.escape(channel)}]</b> ' + body
    return f'<div class="smnb-channel-block" style="margin-bottom:0.4em">{body}</div>'


def render_transcript_html(state: TranscriptState, *, max_chars: int = 20_000) -> str:
    """The transcript: finals in normal type, the partial in grey, labels when present."""
    blocks = [_channel_html(state, ch, max_chars) for ch in state.channels]
    if not any(state.finals.values()) and not any(state.partials.values()):
        blocks = ['<i class="smnb-empty" style="color:#8a8a8a">(no speech yet)</i>']
    return (
        '<div class="smnb-transcript" style="font-size:1.05em;line-height:1.5">'
        + "".join(blocks)
        + "</div>"
    )


_PHASE_ICONS = {
    "idle": "○",
    "connecting": "◌",
    "streaming": "●",
    "ending": "◐",
    "done": "✓",
    "error": "✗",
    "closed": "✗",
}


def status_text(state: TranscriptState, *, hint: str | None = None) -> str:
    """One line: phase, audio seconds sent, messages, last final latency."""
    phase = state.phase
    if phase == "idle":
        phase = "starting"  # the session task has not recorded anything yet
    elif phase == "streaming" and state.frames_sent == 0:
        phase = "waiting for audio"
    parts = [f"{_PHASE_ICONS.get(state.phase, '')} {phase}".strip()]
    parts.append(f"{state.audio_seconds_sent:.1f} s audio sent")
    parts.append(f"{state.messages_received} messages")
    # The words of Result's repr and its transcripts table (rows of kind partial/final).
    parts.append(f"{state.n_partials} partial, {state.n_finals} final transcripts")
    if state.last_final_latency is not None and state.pace in (None, "realtime", "live"):
        parts.append(f"last final latency {state.last_final_latency:.2f} s")
    elif state.pace is not None and state.pace not in ("realtime", "live"):
        # Faster than real time there is no "spoken at" moment to measure from.
        parts.append(f"pace {state.pace}: no latency")
    line = " · ".join(parts)
    if state.error:
        line += f" · error {state.error}"
    elif state.warning:
        line += f" · warning {state.warning}"
    if hint and not state.finished and state.frames_sent == 0:
        line += f" · {hint}"
    return line


def render_status_html(state: TranscriptState, *, hint: str | None = None) -> str:
    """The status line as HTML (monospace-free, small, grey unless an error)."""
    color = "#c62828" if state.error else "#555"
    text = html.escape(status_text(state, hint=hint))
    return f'<div class="smnb-status" style="font-size:0.85em;color:{color}">{text}</div>'


SNAPSHOT_NOTE = "a snapshot of the live view (it updates only with a running kernel)"


def render_snapshot_html(
    state: TranscriptState, *, title: str = "", hint: str | None = None
) -> str:
    """The whole view as static HTML, for renderings without widgets.

    GitHub, nbviewer, an untrusted notebook or an executed copy show this instead of the
    widget: the title, the transcript and the status line, as the widget last showed them.
    """
    head = f"<div><b>{html.escape(title)}</b></div>" if title else ""
    note = f'<div style="font-size:0.8em;color:#777">({SNAPSHOT_NOTE})</div>'
    return (
        '<div class="smnb-live-snapshot">'
        + head
        + render_transcript_html(state)
        + render_status_html(state, hint=hint)
        + note
        + "</div>"
    )


def snapshot_text(state: TranscriptState, *, title: str = "", hint: str | None = None) -> str:
    """The whole view as plain text: title and status on one line, then the transcript.

    The transcript has the labels of ``Result.text`` and the HTML (one block per
    channel, a line per speaker turn), each channel's partial in ``[…]``.
    """
    head = f"{title} · " if title else ""
    lines = [line for ch in state.channels for line in state.text_lines(ch, partial=True)]
    text = "\n".join(lines)
    return f"{head}{status_text(state, hint=hint)}\n{text or '(no speech yet)'}"
