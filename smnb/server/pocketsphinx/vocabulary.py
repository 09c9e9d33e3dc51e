"""``additional_vocab`` → pronunciations the decoder can add.

pocketsphinx ships no grapheme-to-phoneme model, so a new word is only pronounceable
when it, or each word of one of its ``sounds_like`` spellings, is in the packaged
CMUdict: the pronunciation is the concatenation of those words' phones. Anything
else is skipped and reported, never guessed.

Must not import: asyncio, websockets, pandas, pocketsphinx, anything from ``smnb.session``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from smnb.server.recognizer import VocabEntry

Lookup = Callable[[str], "str | None"]
"""Dictionary look-up: a lowercase word → space-separated ARPAbet phones, or None."""

_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True, slots=True)
class PlannedWord:
    """One dictionary entry to add: ``token`` (the decoder's word), the text to output, phones."""

    token: str
    content: str
    pronunciations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VocabularyPlan:
    """What to add to the decoder, and which entries could not be pronounced."""

    words: tuple[PlannedWord, ...]
    skipped: tuple[str, ...]


def as_entry(item: str | VocabEntry) -> VocabEntry:
    """Normalise a plain string to a :class:`VocabEntry` with no ``sounds_like``."""
    return item if isinstance(item, VocabEntry) else VocabEntry(item)


def decoder_token(content: str) -> str:
    """The dictionary word for ``content``: lowercase, spaces joined by ``_``.

    pocketsphinx dictionary words cannot contain spaces; the recognizer maps the token
    back to ``content`` when it outputs the word.
    """
    return "_".join(content.lower().split())


def pronounce(phrase: str, lookup: Lookup) -> str | None:
    """Phones for ``phrase`` from the dictionary, word by word; None if any word is missing."""
    words = _WORD.findall(phrase.lower())
    if not words:
        return None
    phones: list[str] = []
    for word in words:
        found = lookup(word)
        if not found:
            return None
        phones.append(found)
    return " ".join(phones)


def plan(entries: Iterable[str | VocabEntry], lookup: Lookup) -> VocabularyPlan:
    """Decide what to add for each entry.

    An entry whose own spelling is a single dictionary word and that has no
    ``sounds_like`` needs nothing (the language model already knows it). Otherwise every
    pronounceable spelling (the ``sounds_like`` ones, then the content) becomes one
    pronunciation of a new token.
    """
    words: list[PlannedWord] = []
    skipped: list[str] = []
    for item in entries:
        entry = as_entry(item)
        content = entry.content.strip()
        if not content:
            continue
        token = decoder_token(content)
        if not entry.sounds_like and all(lookup(w) for w in _WORD.findall(content.lower())):
            continue  # a phrase of known words: the n-gram model covers it
        spellings = [*entry.sounds_like, content]
        prons: list[str] = []
        for spelling in spellings:
            phones = pronounce(spelling, lookup)
            if phones is not None and phones not in prons:
                prons.append(phones)
        if prons:
            words.append(PlannedWord(token, content, tuple(prons)))
        else:
            skipped.append(content)
    return VocabularyPlan(tuple(words), tuple(skipped))


def add_words(
    decoder: Any, entries: Iterable[str | VocabEntry]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Add the pronounceable ``entries`` to a pocketsphinx ``decoder`` (dictionary and LM).

    Returns the added decoder tokens mapped to the text to output, and the entries that
    were skipped (unpronounceable, or clashing with an existing dictionary word). The
    decoder is dirty afterwards: it must not serve another session.
    """
    vocab = plan(entries, decoder.lookup_word)
    skipped = list(vocab.skipped)
    tokens: dict[str, str] = {}
    additions: list[tuple[str, str]] = []
    for planned in vocab.words:
        if decoder.lookup_word(planned.token):
            skipped.append(planned.content)  # would clash with an existing dictionary word
            continue
        for i, phones in enumerate(planned.pronunciations):
            additions.append((planned.token if i == 0 else f"{planned.token}({i + 1})", phones))
        tokens[planned.token] = planned.content
    for i, (name, phones) in enumerate(additions):
        # Rebuilding the search is slow: do it once, with the last word.
        decoder.add_word(name, phones, update=i == len(additions) - 1)
    return tokens, tuple(skipped)
