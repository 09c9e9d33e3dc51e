"""Records → pandas DataFrames: the pandas boundary of smnb.

Every function takes a :class:`~smnb.recorder.Recorder` (snapshotted, so a
session still running on another thread is safe to read) or any iterable of
:class:`~smnb.recorder.Record`, and returns a fresh DataFrame with a fixed set
of columns and dtypes (``float64`` times, nullable ``Int64`` ids and counts,
``category`` labels, nullable ``boolean`` flags). An empty session gives empty
frames with the same columns and dtypes.

Time: ``t0`` (:func:`audio_origin`) is ``scheduled_t − audio_end`` of the first
audio frame, the moment sample 0 was (as if) spoken. ``received_s = t − t0``;
``latency_s = received_s − end_time``. Without audio, ``t0`` is undefined and
every ``*_s`` column is NaN. See ``docs/architecture.md`` for the column lists.

Modules: ``columns`` (dtypes, the one frame builder), ``session`` (messages,
events, audio), ``transcripts`` (words, partials, transcripts), ``utterances``
(utterances, text, the word delimiter). Text is rendered with the one token/text
model, :mod:`smnb.protocol.text` (stdlib only, so the widgets, the CLI and the
server render with it without pandas). The table functions are bound below, after
their modules are imported, so ``smnb.tables.transcripts``/``.utterances`` name the
functions; import from the module paths to reach a module.

Never imports the transport (``smnb.session``, websockets, asyncio), widgets or plots.
"""

from __future__ import annotations

import pandas as pd

from smnb.protocol.text import join_tokens
from smnb.tables.columns import Records, as_records, audio_origin
from smnb.tables.connections import CONNECTIONS_SCHEMA, connections, on_audio_clock
from smnb.tables.session import (
    AUDIO_SCHEMA,
    EVENTS_SCHEMA,
    MESSAGES_SCHEMA,
    audio,
    events,
    messages,
)
from smnb.tables.transcripts import (
    PARTIALS_SCHEMA,
    TRANSCRIPTS_SCHEMA,
    WORDS_SCHEMA,
    partials,
    transcripts,
    words,
)
from smnb.tables.utterances import UTTERANCES_SCHEMA, text, utterances, word_delimiter

__all__ = [
    "SCHEMAS",
    "Records",
    "all_tables",
    "audio",
    "audio_origin",
    "connections",
    "events",
    "join_tokens",
    "messages",
    "on_audio_clock",
    "partials",
    "text",
    "transcripts",
    "utterances",
    "word_delimiter",
    "words",
]

SCHEMAS: dict[str, dict[str, str]] = {
    "messages": MESSAGES_SCHEMA,
    "words": WORDS_SCHEMA,
    "partials": PARTIALS_SCHEMA,
    "transcripts": TRANSCRIPTS_SCHEMA,
    "utterances": UTTERANCES_SCHEMA,
    "events": EVENTS_SCHEMA,
    "audio": AUDIO_SCHEMA,
    "connections": CONNECTIONS_SCHEMA,
}
"""Column name → dtype of every table, in column order."""

_BUILDERS = {
    "messages": messages,
    "words": words,
    "partials": partials,
    "transcripts": transcripts,
    "utterances": utterances,
    "events": events,
    "audio": audio,
    "connections": connections,
}


def all_tables(records: Records) -> dict[str, pd.DataFrame]:
    """Every table, built from one snapshot of the records."""
    recs = as_records(records)
    return {name: build(recs) for name, build in _BUILDERS.items()}
