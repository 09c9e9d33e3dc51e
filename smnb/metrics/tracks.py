"""Word tracks: what was on screen for each final word, and when.

A *slot* is one normalised word of the final transcript (``AddTranscript`` items of
type ``word``, normalised as one text, so an item may give several slots sharing its
timing and several items may give one slot: ``thirty five`` → ``35`` spans both items,
see :func:`smnb.metrics.reference.sourced_tokens`). Every ``AddPartialTranscript``
(normalised as one text per message) is mapped onto the slots it previews; from that
we know, per slot, when it first appeared in a partial, how often its text changed
before it was final, and what a viewer saw at any moment.

Mapping a partial (definition, stated here once):

* A partial holds the words after the last final (RT v2 rule), so it is aligned to the
  slots not yet finalised when it arrived (``cursor`` = number of final slots from
  earlier messages), in a window of ``len(partial) + 8`` slots.
* The alignment is Levenshtein with free trailing gaps in the window (semi-global): the
  partial is a prefix of what will be finalised. Ties go to the earliest slot. A partial
  word may only pair with a final word whose audio span overlaps its own (give or take
  :data:`TIME_SLACK`): both describe the same stretch of audio, so a word dropped from the
  end of a partial is not mistaken for the next word finalised after a pause. Partial
  words aligned to a slot (equal or substituted) *show* that slot; the rest are
  *phantoms* (shown, never finalised), counted per partial.
* Empty partials matter: the current partial replaces the previous one, so an empty
  partial clears the provisional text.

Pure functions of tables (:mod:`smnb.tables`). Must not import asyncio, websockets,
smnb.session.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from smnb.metrics.normalise import Normaliser
from smnb.metrics.normalise import tokens as default_normaliser
from smnb.metrics.reference import sourced_tokens

WINDOW_SLACK = 8
TIME_SLACK = 0.2
"""A partial word may show a final word only if their audio spans overlap within this (s)."""


@dataclass(frozen=True, slots=True)
class Token:
    """One normalised word of a transcript message."""

    text: str
    start: float
    end: float
    received_s: float
    message_i: int


@dataclass(slots=True)
class PartialView:
    """One partial message mapped onto the final slots."""

    message_i: int
    received_s: float
    shown: dict[int, str]
    """slot → the text this partial displayed for it."""
    phantoms: int = 0


@dataclass(slots=True)
class Tracks:
    """The finals of one channel, and every partial mapped onto them."""

    finals: list[Token]
    partials: list[PartialView]
    channel: str | None = None
    history: list[list[tuple[float, str]]] = field(init=False, repr=False)
    """Per slot: (received_s, text) of each partial that showed it, in order."""
    _times: list[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.history = [[] for _ in self.finals]
        for view in self.partials:
            for slot, text in view.shown.items():
                self.history[slot].append((view.received_s, text))
        self._times = [v.received_s for v in self.partials]

    def first_partial_s(self, slot: int) -> float:
        """When the slot first appeared in a partial (NaN if never)."""
        hist = self.history[slot]
        return hist[0][0] if hist else math.nan

    def revisions(self, slot: int) -> int:
        """How many times the displayed text changed from its first partial to the final."""
        texts = [text for _, text in self.history[slot]] + [self.finals[slot].text]
        return sum(a != b for a, b in itertools.pairwise(texts))

    def revision_times(self, slot: int) -> list[float]:
        """Arrival times of the partials that changed the slot's displayed text."""
        hist = self.history[slot]
        return [t for (_, a), (t, b) in itertools.pairwise(hist) if a != b]

    def displayed(self, slot: int, t: float) -> str | None:
        """The text shown for ``slot`` at time ``t`` (received_s clock), or None."""
        final = self.finals[slot]
        if final.received_s <= t:
            return final.text
        k = bisect.bisect_right(self._times, t) - 1
        if k < 0:
            return None
        return self.partials[k].shown.get(slot)


def lexical_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Word items of a words/partials table; an entity counts only if no word covers it."""
    if table.empty:
        return table
    kind = table["type"].astype("object")
    rows = table[(kind == "word") | (kind == "entity")]
    entities = rows[rows["type"].astype("object") == "entity"]
    if entities.empty:
        return rows
    words = rows[rows["type"].astype("object") == "word"]
    drop = []
    for idx, ent in entities.iterrows():
        same = words[words["message_i"] == ent["message_i"]]
        covered = (same["start_time"] >= ent["start_time"] - 1e-6) & (
            same["end_time"] <= ent["end_time"] + 1e-6
        )
        if covered.any():  # the entity's spoken words are already there
            drop.append(idx)
    return rows.drop(index=drop)


def item_tokens(
    table: pd.DataFrame,
    normaliser: Normaliser = default_normaliser,
    *,
    by_message: bool = False,
) -> list[Token]:
    """Normalised tokens of the word items, in table order, with the times of their items.

    The items are normalised as one text (each message on its own with ``by_message``);
    a token spanning several items starts with the first and ends, and was received,
    with the last.
    """
    rows = lexical_rows(table)
    contents = [c if isinstance(c, str) else "" for c in rows["content"]]
    starts = rows["start_time"].to_numpy(dtype="float64").tolist()
    ends = rows["end_time"].to_numpy(dtype="float64").tolist()
    received = rows["received_s"].to_numpy(dtype="float64").tolist()
    messages = [int(m) for m in rows["message_i"]]
    positions = range(len(messages))
    if by_message:
        groups = [list(g) for _, g in itertools.groupby(positions, key=messages.__getitem__)]
    else:
        groups = [list(positions)]
    out: list[Token] = []
    for group in groups:
        for tok, first, last in sourced_tokens([contents[k] for k in group], normaliser):
            a, b = group[first], group[last]
            out.append(Token(tok, starts[a], ends[b], received[b], messages[b]))
    return out


def prefix_align(
    hyp: Sequence[str],
    target: Sequence[str],
    allowed: Callable[[int, int], bool] | None = None,
) -> list[int | None]:
    """For each ``hyp`` word, the ``target`` index it aligns to (equal/substitute) or None.

    Levenshtein with unit costs where trailing ``target`` words are free (``hyp`` is a
    prefix of ``target``). Ties between minimal-edit alignments go, in order, to the one
    with more exact matches, then more aligned words, then the earliest end in ``target``,
    then phantoms as late in ``hyp`` as possible. ``allowed(i, j)`` may forbid pairing
    ``hyp[i]`` with ``target[j]`` (they then cost an insertion plus a deletion, like any
    two unrelated words).
    """
    p, n = len(hyp), len(target)
    if p == 0:
        return []
    # One integer encodes (edits, -matches, -aligned) lexicographically: k*k > any
    # difference in matches*k + aligned, and k > any difference in aligned.
    k = p + 1
    edit, match, sub = k * k, -k - 1, k * k - 1
    cost = [[j * edit for j in range(n + 1)]]
    for i in range(1, p + 1):
        prev = cost[i - 1]
        row = [i * edit] + [0] * n
        for j in range(1, n + 1):
            if allowed is None or allowed(i - 1, j - 1):
                diag = prev[j - 1] + (match if hyp[i - 1] == target[j - 1] else sub)
            else:
                diag = prev[j - 1] + 3 * edit  # never better than skipping both
            row[j] = min(diag, prev[j] + edit, row[j - 1] + edit)
        cost.append(row)
    last = cost[p]
    j = min(range(n + 1), key=lambda col: (last[col], col))
    out: list[int | None] = [None] * p
    i = p
    while i > 0:
        step = match if j > 0 and hyp[i - 1] == target[j - 1] else sub
        pairable = j > 0 and (allowed is None or allowed(i - 1, j - 1))
        if cost[i][j] == cost[i - 1][j] + edit:
            # On a tie the phantom goes last: a partial's tail is its most provisional part.
            i -= 1  # an extra hyp word: a phantom
        elif pairable and cost[i][j] == cost[i - 1][j - 1] + step:
            out[i - 1] = j - 1
            i, j = i - 1, j - 1
        else:
            j -= 1  # a target word the partial skipped
    return out


def overlaps(a: Token, b: Token, slack: float = TIME_SLACK) -> bool:
    """Whether two words' audio spans overlap, give or take ``slack`` (True if untimed)."""
    if not all(math.isfinite(x) for x in (a.start, a.end, b.start, b.end)):
        return True
    return a.start <= b.end + slack and b.start <= a.end + slack


def _same_audio(
    shown: Sequence[Token], pending: Sequence[Token], heard: float
) -> Callable[[int, int], bool]:
    # Same stretch of audio, and a word that had started in the audio sent so far.
    return lambda i, j: overlaps(shown[i], pending[j]) and not pending[j].start > heard + 0.02


def _audio_sent_by(audio: pd.DataFrame) -> Callable[[float], float]:
    """t → seconds of audio sent by ``t`` (``received_s`` clock); inf for an empty table."""
    frames = audio.sort_values("sent_s")
    times = [float(x) for x in frames["sent_s"]]
    if not times:
        return lambda t: math.inf
    reach = list(itertools.accumulate((float(x) for x in frames["audio_end"]), max))

    def heard(t: float) -> float:
        k = bisect.bisect_right(times, t)
        return reach[k - 1] if k else 0.0

    return heard


def partial_messages(transcripts: pd.DataFrame) -> pd.DataFrame:
    """Every partial message (empty ones too): ``message_i``, ``received_s``, ``channel``."""
    kind = transcripts["kind"].astype("object")
    return transcripts.loc[kind == "partial", ["message_i", "received_s", "channel"]]


def build_tracks(
    words: pd.DataFrame,
    partials: pd.DataFrame,
    transcripts: pd.DataFrame,
    *,
    audio: pd.DataFrame | None = None,
    channel: str | None = None,
    normaliser: Normaliser = default_normaliser,
) -> Tracks:
    """Map every partial of one channel onto the final slots of that channel.

    With the ``audio`` table, a partial may only show words whose audio had been sent
    when it arrived (causality; exact whatever the pacing).
    """
    heard = _audio_sent_by(_for_channel(audio, channel)) if audio is not None else None
    words = _for_channel(words, channel)
    partials = _for_channel(partials, channel)
    messages = _for_channel(partial_messages(transcripts), channel)
    finals = item_tokens(words, normaliser)
    final_messages = [tok.message_i for tok in finals]
    texts = [tok.text for tok in finals]
    tokens_by_message: dict[int, list[Token]] = {}
    for tok in item_tokens(partials, normaliser, by_message=True):
        tokens_by_message.setdefault(tok.message_i, []).append(tok)
    views: list[PartialView] = []
    for message_i, received in zip(messages["message_i"], messages["received_s"], strict=True):
        shown_tokens = tokens_by_message.get(int(message_i), [])
        cursor = bisect.bisect_left(final_messages, int(message_i))
        window = texts[cursor : cursor + len(shown_tokens) + WINDOW_SLACK]
        limit = heard(float(received)) if heard is not None else math.inf
        mapping = prefix_align(
            [tok.text for tok in shown_tokens],
            window,
            _same_audio(shown_tokens, finals[cursor:], limit),
        )
        shown = {
            cursor + j: tok.text
            for tok, j in zip(shown_tokens, mapping, strict=True)
            if j is not None
        }
        phantoms = sum(j is None for j in mapping)
        views.append(PartialView(int(message_i), float(received), shown, phantoms))
    return Tracks(finals, views, channel)


def channels(words: pd.DataFrame, partials: pd.DataFrame) -> list[str | None]:
    """The channels present (``[None]`` for a single-channel session)."""
    found: set[str] = set()
    for table in (words, partials):
        found.update(str(c) for c in table["channel"].dropna().unique())
    out: list[str | None] = [*sorted(found)]
    return out or [None]


def _for_channel(table: pd.DataFrame, channel: str | None) -> pd.DataFrame:
    if channel is None:
        return table
    return table[table["channel"].astype("object") == channel]
