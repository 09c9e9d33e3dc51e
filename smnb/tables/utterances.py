"""Final words grouped into utterances, and the session's plain text.

An utterance ends at sentence-ending punctuation (``is_eos``), at an
``EndOfUtterance``, or before a word from a different speaker. Channels are
independent streams, so each channel is grouped on its own and interleaved
channels never cut each other's utterances.

Two real-traffic quirks are handled on purpose (rt-protocol §5.2): punctuation
can be finalised late, in its own final after the words it follows, so a
``previous``-attached mark that arrives when nothing is open joins the last
utterance of its channel; and ``EndOfUtterance`` often follows a final that
already ended the sentence, so it is credited to that utterance.

Text is rendered by :mod:`smnb.protocol.text` (the legacy Speechmatics CLI's
joining, ``"<channel> <speaker>: "`` prefixes) with the session's word delimiter
(:func:`word_delimiter`).

Pure functions of the records. Imports pandas/numpy; never the transport.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from smnb.protocol.messages import Message
from smnb.protocol.text import (
    WORDLIKE,
    announced_delimiter,
    delimiter_for,
    first_alternative,
    join_tokens,
    labelled,
    requested_language,
)
from smnb.recorder import RECEIVED, SENT, Record
from smnb.tables.columns import (
    CAT,
    FLOAT,
    INT,
    TEXT,
    Records,
    as_records,
    audio_origin,
    frame,
    label,
    num,
    origin_or_nan,
)
from smnb.tables.connections import on_audio_clock
from smnb.tables.transcripts import FINAL, result_channel, results_of

UTTERANCES_SCHEMA = {
    "utterance": INT,
    "channel": CAT,
    "speaker": CAT,
    "start_time": FLOAT,
    "end_time": FLOAT,
    "text": TEXT,
    "n_words": INT,
    "received_s": FLOAT,
    "eou_received_s": FLOAT,
    "ended_by": CAT,
}


@dataclass(slots=True)
class _Utterance:
    channel: str | None
    speaker: str | None = None
    tokens: list[Message] = field(default_factory=list)
    n_words: int = 0
    start_time: float = math.inf
    end_time: float = -math.inf
    received_t: float = math.nan
    eou_t: float = math.nan
    ended_by: str = "end"

    def add(self, result: Message, t: float) -> None:
        self.tokens.append(result)
        start, end = num(result.get("start_time")), num(result.get("end_time"))
        if start is not None:
            self.start_time = min(self.start_time, start)
        if end is not None:
            self.end_time = max(self.end_time, end)
        self.received_t = t  # the utterance is complete when its last token arrived


def _group(recs: list[Record]) -> list[_Utterance]:
    """Utterances in the order they started."""
    out: list[_Utterance] = []
    current: dict[str | None, _Utterance] = {}  # open utterance per channel
    last: dict[str | None, _Utterance] = {}  # last closed utterance per channel

    def close(ch: str | None, reason: str) -> None:
        utt = current.pop(ch)
        utt.ended_by = reason
        last[ch] = utt

    for rec in recs:
        if rec.direction != RECEIVED or not isinstance(rec.payload, dict):
            continue
        payload = rec.payload
        if rec.type == "EndOfUtterance":
            ch = label(payload.get("channel"))
            if ch in current:
                current[ch].eou_t = rec.t
                close(ch, "eou")
            elif ch in last and math.isnan(last[ch].eou_t):
                last[ch].eou_t = rec.t
            continue
        if rec.type != FINAL:
            continue
        for res in results_of(payload):
            ch = result_channel(payload, res)
            utt = current.get(ch)
            if res.get("type") in WORDLIKE:
                speaker = label(first_alternative(res).get("speaker"))
                if utt is not None and utt.n_words and speaker != utt.speaker:
                    close(ch, "speaker")
                    utt = None
                if utt is None:
                    utt = current[ch] = _Utterance(ch)
                    out.append(utt)
                if utt.n_words == 0:
                    utt.speaker = speaker
                utt.n_words += 1
                utt.add(res, rec.t)
                continue
            attaches = res.get("attaches_to", "previous")
            if utt is None and attaches == "previous" and ch in last:
                last[ch].add(res, rec.t)  # late punctuation rejoins its sentence
                continue
            if utt is None:
                utt = current[ch] = _Utterance(ch)
                out.append(utt)
            utt.add(res, rec.t)
            if res.get("is_eos") is True:
                close(ch, "eos")
    return out


def utterances(records: Records) -> pd.DataFrame:
    """Final words grouped into utterances, in the order they started.

    ``received_s`` is when the utterance's last token arrived; ``eou_received_s``
    when its ``EndOfUtterance`` did (NaN if none); ``ended_by`` is ``eos``
    (sentence end), ``eou``, ``speaker`` (speaker change) or ``end`` (session end).
    """
    recs = on_audio_clock(as_records(records))  # one audio clock across reconnections
    t0 = origin_or_nan(audio_origin(recs))
    delimiter = word_delimiter(recs)
    groups = _group(recs)
    data: dict[str, Any] = {
        "utterance": list(range(len(groups))),
        "channel": [u.channel for u in groups],
        "speaker": [u.speaker for u in groups],
        "start_time": [
            u.start_time if u.tokens and math.isfinite(u.start_time) else None for u in groups
        ],
        "end_time": [
            u.end_time if u.tokens and math.isfinite(u.end_time) else None for u in groups
        ],
        "text": [join_tokens(u.tokens, delimiter) for u in groups],
        "n_words": [u.n_words for u in groups],
        "received_s": [u.received_t - t0 for u in groups],
        "eou_received_s": [u.eou_t - t0 for u in groups],
        "ended_by": [u.ended_by for u in groups],
    }
    return frame(data, UTTERANCES_SCHEMA)


def text(records: Records) -> str:
    """The final transcript as plain text, one line per speaker turn.

    Consecutive utterances of the same channel and speaker share a line unless an
    ``EndOfUtterance`` separated them. Lines are prefixed with ``"<channel> "``
    and/or ``"<speaker>"`` and ``": "`` when the session is multichannel or diarized.
    """
    recs = on_audio_clock(as_records(records))  # one audio clock across reconnections
    delimiter = word_delimiter(recs)
    groups = [u for u in _group(recs) if u.tokens]
    diarized = any(u.speaker is not None for u in groups)
    multichannel = any(u.channel is not None for u in groups)
    lines: list[tuple[str | None, str | None, list[str]]] = []
    previous: _Utterance | None = None
    for utt in groups:
        joined = join_tokens(utt.tokens, delimiter)
        same_turn = (
            previous is not None
            and (previous.channel, previous.speaker) == (utt.channel, utt.speaker)
            and math.isnan(previous.eou_t)
        )
        if same_turn:
            lines[-1][2].append(joined)
        else:
            lines.append((utt.channel, utt.speaker, [joined]))
        previous = utt
    out = []
    for channel, speaker, parts in lines:
        body = delimiter.join(p for p in parts if p)
        if body:
            shown_channel = channel if multichannel else None
            out.append(labelled(body, shown_channel, speaker if diarized else None))
    return "\n".join(out)


def word_delimiter(records: Records) -> str:
    """The session's word delimiter: announced by ``RecognitionStarted``, else by language.

    Falls back like the legacy CLI: ``""`` for ``ja``/``cmn``, otherwise ``" "``.
    """
    language = None
    for rec in as_records(records):
        payload = rec.payload
        if not isinstance(payload, dict):
            continue
        if rec.direction == RECEIVED and rec.type == "RecognitionStarted":
            announced = announced_delimiter(payload)
            if announced is not None:
                return announced
        elif rec.direction == SENT and rec.type == "StartRecognition":
            language = requested_language(payload)
    return delimiter_for(language)
