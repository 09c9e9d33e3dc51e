"""The pinned English text normaliser applied before any word is compared.

WER numbers are only comparable under one normaliser, so smnb ships its own, small,
documented one and records :data:`NAME` and :data:`VERSION` next to every score.
Any change to the rules below must bump :data:`VERSION`.

Rules, in order (applied identically to reference and hypothesis):

1. Unicode NFKC; typographic apostrophes become ``'``; lowercase.
2. Bracketed spans are removed: ``[noise]``, ``(laughs)``, ``<sil>``.
3. ``&`` → ``and``; ``$N`` → ``N dollars``, ``£N`` → ``N pounds``, ``€N`` → ``N euros``;
   ``N%`` → ``N percent``.
4. Numbers become words: thousands separators are dropped; ``3.5`` → ``three point five``;
   ``21st`` → ``twenty first``; ``1990`` → ``one thousand nine hundred ninety`` (no year
   reading); numbers with a leading zero are read digit by digit (``007`` → ``zero zero seven``).
5. Every character that is not a letter, digit or apostrophe becomes a space (so
   ``cold-hearted`` → ``cold hearted``); apostrophes at the edge of a word are dropped
   (quotes), apostrophes inside a word are kept (``kate's``).
6. Contractions are expanded: ``won't`` → ``will not``, ``can't`` → ``can not``,
   ``n't`` → `` not``, ``'re`` → `` are``, ``'ll`` → `` will``, ``'ve`` → `` have``,
   ``'m`` → `` am``, ``'d`` → `` would``; ``'s`` is left alone (possessive or "is").
7. Titles: ``mr`` → ``mister``, ``mrs`` → ``missus``, ``ms`` → ``miss``, ``dr`` → ``doctor``,
   ``st`` → ``saint``, ``prof`` → ``professor``, ``jr`` → ``junior``, ``sr`` → ``senior``.
8. Hesitations ``uh um hmm mm mmm mhm erm`` are removed.

Not handled (by design, to stay small): British/American spelling, spoken years
("nineteen ninety"), written-out numbers to digits. Reference transcripts in
``smnb/samples`` are lowercase with numbers spelled out, which is what this produces.

Stdlib only. Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import re
import unicodedata

NAME = "smnb-en"
VERSION = "1"

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_ENDINGS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_CONTRACTIONS = (
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'d\b"), " would"),
)
_TITLES = {
    "mr": "mister",
    "mrs": "missus",
    "ms": "miss",
    "dr": "doctor",
    "st": "saint",
    "prof": "professor",
    "jr": "junior",
    "sr": "senior",
}
_HESITATIONS = frozenset({"uh", "um", "hmm", "mm", "mmm", "mhm", "erm"})

_BRACKETS = re.compile(r"\[[^\]]*\]|\([^)]*\)|<[^>]*>")
_CURRENCY = re.compile(r"([$£€])\s*(\d[\d,]*(?:\.\d+)?)")
_CURRENCY_NAMES = {"$": "dollars", "£": "pounds", "€": "euros"}
_PERCENT = re.compile(r"(\d)\s*%")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_DECIMAL = re.compile(r"\b(\d+)\.(\d+)\b")
_INTEGER = re.compile(r"\d+")
_NOT_WORD = re.compile(r"[^\w']+|_")
_EDGE_APOSTROPHES = re.compile(r"(?<!\w)'+|'+(?!\w)")


def cardinal(n: int) -> str:
    """``n`` (≥ 0) in words, without "and": 105 → "one hundred five"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {cardinal(rest)}" if rest else "")
    for scale, name in _SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            return f"{cardinal(head)} {name}" + (f" {cardinal(rest)}" if rest else "")
    raise AssertionError("unreachable")  # pragma: no cover


def ordinal(n: int) -> str:
    """``n`` as an ordinal in words: 21 → "twenty first"."""
    words = cardinal(n).split()
    last = words[-1]
    if last in _ORDINAL_ENDINGS:
        words[-1] = _ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _number_words(digits: str) -> str:
    # A leading zero means an identifier ("007"), not a quantity.
    if len(digits) > 1 and digits.startswith("0"):
        return " ".join(_ONES[int(d)] for d in digits)
    if len(digits) > 15:  # beyond trillions: read digit by digit rather than guess
        return " ".join(_ONES[int(d)] for d in digits)
    return cardinal(int(digits))


def _numbers(text: str) -> str:
    text = _THOUSANDS.sub("", text)
    text = _ORDINAL.sub(lambda m: f" {ordinal(int(m.group(1)))} ", text)
    text = _DECIMAL.sub(
        lambda m: (
            f" {_number_words(m.group(1))} point "
            + " ".join(_ONES[int(d)] for d in m.group(2))
            + " "
        ),
        text,
    )
    return _INTEGER.sub(lambda m: f" {_number_words(m.group(0))} ", text)


def tokens(text: str) -> list[str]:
    """The normalised words of ``text`` (see the module docstring for the rules)."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    text = text.lower()
    text = _BRACKETS.sub(" ", text)
    text = text.replace("&", " and ")
    text = _CURRENCY.sub(lambda m: f" {m.group(2)} {_CURRENCY_NAMES[m.group(1)]} ", text)
    text = _PERCENT.sub(r"\1 percent", text)
    text = _numbers(text)
    text = _NOT_WORD.sub(" ", text)
    text = _EDGE_APOSTROPHES.sub(" ", text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    out: list[str] = []
    for word in text.split():
        word = _TITLES.get(word, word)
        if word not in _HESITATIONS:
            out.extend(word.split())
    return out


def normalise(text: str) -> str:
    """``text`` normalised and joined with single spaces."""
    return " ".join(tokens(text))


def describe() -> dict[str, str]:
    """Name and version, for manifests and summary tables."""
    return {"name": NAME, "version": VERSION}
