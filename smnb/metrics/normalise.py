"""The text normaliser applied before any word is compared: Whisper's English normaliser.

WER numbers are only comparable under one normaliser. smnb uses the field's reference,
OpenAI Whisper's ``EnglishTextNormalizer`` (the one the Open ASR Leaderboard applies),
as packaged on PyPI by ``whisper-normalizer`` (pinned in ``pyproject.toml``), so smnb's
WERs compare with published ones. :data:`NAME`, :data:`PACKAGE` and :data:`VERSION`
are recorded next to every score (session stats, summary rows, sweep manifests).

What it does (Whisper paper, appendix C): lowercase; bracketed and parenthesised spans
removed; hesitations (``hmm mm mhm mmm uh um``) removed; contractions expanded
(``won't`` → ``will not``, ``'s`` → `` is``); titles spelled out (``mr`` → ``mister``);
punctuation and diacritics removed; spelled-out numbers and currencies become digits
(``thirty five`` → ``35``, ``twenty dollars`` → ``$20``); British spellings become
American ones. See ``docs/experiments.md`` for the quirks worth knowing.

Numbers make it context-dependent: ``"thirty five"`` is one word, ``"thirty"`` and
``"five"`` apart are two. :func:`smnb.metrics.reference.sourced_tokens` therefore
normalises a run of words as one text and traces each resulting word back to the word
it came from, so per-word timings survive normalisation.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib.metadata import version

NAME = "whisper-english"
"""The normaliser: Whisper's ``EnglishTextNormalizer``."""
PACKAGE = "whisper-normalizer"
"""The PyPI distribution that provides it."""
VERSION = version(PACKAGE)
"""The installed version of :data:`PACKAGE` (recorded with every score)."""

Normaliser = Callable[[str], list[str]]
"""Text → normalised words."""


@functools.cache
def _whisper() -> Callable[[str], str]:
    # Built once, on first use: it loads its spelling table from a JSON file.
    from whisper_normalizer.english import EnglishTextNormalizer

    normaliser: Callable[[str], str] = EnglishTextNormalizer()
    return normaliser


def normalise(text: str) -> str:
    """``text`` normalised, words joined with single spaces."""
    return " ".join(tokens(text))


def tokens(text: str) -> list[str]:
    """The normalised words of ``text``."""
    return list(_tokens(text))


@functools.lru_cache(maxsize=1 << 16)
def _tokens(text: str) -> tuple[str, ...]:
    # Whisper's normaliser costs ~0.5 ms a call and sessions repeat the same words and
    # partial texts thousands of times: a pure function, so remembered.
    return tuple(_whisper()(text).split())


def describe() -> dict[str, str]:
    """Name, package and version, for manifests."""
    return {"name": NAME, "package": PACKAGE, "version": VERSION}


def label(normaliser: Normaliser | None = None) -> str:
    """``"whisper-english/<version>"`` for the default, the callable's name otherwise."""
    if normaliser is None or normaliser is tokens:
        return f"{NAME}/{VERSION}"
    return str(getattr(normaliser, "__qualname__", "custom"))
