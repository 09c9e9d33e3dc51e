"""Every metric of one recorded session: :func:`analyse`.

Input is the session's log (a :class:`~smnb.result.Result`, a
:class:`~smnb.recorder.Recorder`, or records) and optionally a
:class:`~smnb.metrics.reference.Reference`; output is a :class:`SessionMetrics`
holding the per-word latency table, displayed-text errors per lag, the word tracks
(for timeline plots) and a flat dict of scalars. Nothing here talks to a server: a
``messages.jsonl`` loaded months later gives the same numbers.

A reference scores one transcript, so it is refused (``ValueError``) for a session with
several channels (channel diarization); without one, every word of such a session is
``unscored`` and anchored on the engine's timings.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from smnb import tables
from smnb.metrics import normalise
from smnb.metrics.accuracy import Score, score_words
from smnb.metrics.latency import empty_latency_frame, eou_latencies, latency_frame, ttfp, word_rows
from smnb.metrics.normalise import Normaliser
from smnb.metrics.reference import Reference
from smnb.metrics.stability import DEFAULT_LAGS, displayed_errors, stability
from smnb.metrics.stats import quantile
from smnb.metrics.tracks import Tracks, build_tracks, channels, item_tokens
from smnb.protocol.config import CHANNEL_MODES
from smnb.recorder import Record, Recorder
from smnb.tables.columns import is_timed

DISPLAYED_COLUMNS = {"lag_s": "float64", "errors": "int64", "n_ref": "int64"}


@dataclass
class SessionMetrics:
    """Everything measured on one session."""

    latency: pd.DataFrame
    """One row per word: see :data:`smnb.metrics.latency.LATENCY_COLUMNS`."""
    stats: dict[str, Any]
    """Scalars: counts, WER, TTFP, EOU, stability, pacing, settings."""
    displayed: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(DISPLAYED_COLUMNS))
    )
    """Displayed-text errors per lag (``lag_s, errors, n_ref``); empty without a reference."""
    tracks: list[Tracks] = field(default_factory=list)
    score: Score | None = None
    eou_latencies: list[float] = field(default_factory=list)
    eou_times: list[tuple[float, float]] = field(default_factory=list)
    """(received_s, audio time) of each ``EndOfUtterance``, for timelines."""


def records_of(source: Any) -> list[Record]:
    """The records of a Result (anything with ``.recorder``), a Recorder, or records."""
    recorder = getattr(source, "recorder", source)
    if isinstance(recorder, Recorder):
        return recorder.snapshot()
    return list(recorder)


def start_config(messages: pd.DataFrame) -> dict[str, Any]:
    """The ``transcription_config`` of the first ``StartRecognition`` sent ({} if none)."""
    sent = messages[
        (messages["direction"].astype("object") == "sent")
        & (messages["type"].astype("object") == "StartRecognition")
    ]
    for payload in sent["payload"]:
        if isinstance(payload, dict) and isinstance(payload.get("transcription_config"), dict):
            return dict(payload["transcription_config"])
    return {}


def end_of_stream_s(messages: pd.DataFrame) -> float:
    """When ``EndOfStream`` was sent, on the audio clock (NaN if it never was)."""
    sent = messages[
        (messages["direction"].astype("object") == "sent")
        & (messages["type"].astype("object") == "EndOfStream")
    ]
    return float(sent["elapsed_s"].iloc[0]) if len(sent) else math.nan


def analyse(
    source: Any,
    reference: Reference | None = None,
    *,
    lags: Sequence[float] = DEFAULT_LAGS,
    normaliser: Normaliser = normalise.tokens,
) -> SessionMetrics:
    """Compute every per-session metric from a recorded session.

    Args:
        source: a Result, Recorder, or iterable of records.
        reference: the expected transcript (and optional word timings); single-channel
            sessions only.
        lags: τ values for displayed-text WER.
        normaliser: text → words; the pinned :func:`smnb.metrics.normalise.tokens`
            by default (its name/version go into ``stats``).
    """
    recs = records_of(source)
    t = tables.all_tables(recs)
    words, partials, transcripts, audio = t["words"], t["partials"], t["transcripts"], t["audio"]
    config = start_config(t["messages"])
    chans = channels(words, partials)
    if reference is not None and (len(chans) > 1 or config.get("diarization") in CHANNEL_MODES):
        # Scoring one channel, or the channels joined, against it would be a guess.
        raise ValueError(
            f"a reference scores one transcript, but this session is channel-diarized"
            f" (diarization={config.get('diarization')!r}, one transcript per channel):"
            " analyse it without one (reference=None)"
        )
    ref_words = reference.words(normaliser) if reference is not None else None
    ref_spans = reference.spans(normaliser) if reference is not None else None

    tracks = [
        build_tracks(words, partials, transcripts, audio=audio, channel=c, normaliser=normaliser)
        for c in chans
    ]
    eos = end_of_stream_s(t["messages"])
    timed = is_timed(recs)  # pace "fast": accuracy and stability only, no latency
    frames = [
        latency_frame(
            word_rows(tr, ref_words, ref_spans), tr.channel, end_of_stream_s=eos, timed=timed
        )
        for tr in tracks
    ]
    latency = pd.concat(frames, ignore_index=True) if frames else empty_latency_frame()

    score = None
    displayed = pd.DataFrame(columns=list(DISPLAYED_COLUMNS)).astype(DISPLAYED_COLUMNS)
    if ref_words is not None:
        score = score_words(ref_words, [tok.text for tok in tracks[0].finals])
        if timed:  # "what was on screen τ s after the word" needs the word spoken at a time
            displayed = displayed_errors(tracks[0], ref_words, ref_spans, lags)

    events = t["events"]
    eou = eou_latencies(latency, events) if timed else []
    is_eou = events["message"].astype("object") == "EndOfUtterance"
    eou_times = [
        (float(r), float(a))
        for r, a in zip(
            events.loc[is_eou, "received_s"], events.loc[is_eou, "end_time"], strict=True
        )
    ]
    stats = _stats(latency, tracks, score, eou, t, config, normaliser)
    stats["timed"] = timed
    if not timed:
        stats.update(ttfp_s=math.nan, ttfp_speech_s=math.nan)
    return SessionMetrics(latency, stats, displayed, tracks, score, eou, eou_times)


def _stats(
    latency: pd.DataFrame,
    tracks: list[Tracks],
    score: Score | None,
    eou: list[float],
    t: dict[str, pd.DataFrame],
    config: dict[str, Any],
    normaliser: Normaliser,
) -> dict[str, Any]:
    counted = latency[latency["counted"]]
    anchors = sorted(set(counted["anchor"].dropna().astype(str)))
    first, speech = ttfp(latency)
    audio = t["audio"]
    ack_rtt = (audio["acked_s"] - audio["sent_s"]).to_numpy(dtype=np.float64)
    stats: dict[str, Any] = {
        "max_delay": _num(config.get("max_delay")),
        "max_delay_mode": config.get("max_delay_mode"),
        "enable_partials": config.get("enable_partials"),
        "n_words": len(counted),
        "n_flushed": int(counted["flushed"].sum()),
        "end_of_stream_s": end_of_stream_s(t["messages"]),
        "anchor": "/".join(anchors) if anchors else None,
        "final_p50": quantile(counted["final_latency_s"], 0.5),
        "final_p95": quantile(counted["final_latency_s"], 0.95),
        "partial_p50": quantile(counted["partial_latency_s"], 0.5),
        "ttfp_s": first,
        "ttfp_speech_s": speech,
        "n_eou": len(eou),
        "eou_p50": quantile(eou, 0.5),
        **stability(tracks),
        "n_partial_messages": sum(len(tr.partials) for tr in tracks),
        "n_hyp_words": len(item_tokens(t["words"], normaliser)),
        "audio_seconds": float(audio["audio_end"].max()) if len(audio) else math.nan,
        "pacing_error_max_s": float(np.nanmax(audio["pacing_error_s"])) if len(audio) else math.nan,
        "ack_rtt_p50_s": quantile(ack_rtt, 0.5),
        "ack_rtt_min_s": float(np.nanmin(ack_rtt)) if np.isfinite(ack_rtt).any() else math.nan,
        "normaliser": normalise.label(normaliser),
    }
    if score is not None:
        ref_rows = latency[latency["ref_index"].notna()]
        stats.update(
            n_ref_words=score.n_ref,
            hits=score.hits,
            substitutions=score.substitutions,
            deletions=score.deletions,
            insertions=score.insertions,
            wer=score.wer,
            coverage=float(ref_rows["counted"].mean()) if len(ref_rows) else math.nan,
        )
    return stats


def _num(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.nan
