"""Transcript options applied after the writer: punctuation, disfluencies, replacements, volume.

One :class:`TranscriptPostprocessor` per stream rewrites each ``AddTranscript`` /
``AddPartialTranscript`` the :class:`~smnb.server.protocol.transcript.TranscriptWriter`
builds, in this order:

1. **Disfluencies** (docs: formatting): a word in :data:`DISFLUENCIES` (the service's English
   list) gets ``tags: ["disfluency"]``; with ``transcript_filtering_config.
   remove_disfluencies`` it is dropped, and the next word starts the sentence if it did.
2. **Punctuation** (``punctuation_overrides``): a mark not in ``permitted_marks`` is
   dropped; a sentence end that may not be ``.`` becomes ``,`` when commas are permitted,
   and the sentence then goes on (no capital after it). ``sensitivity`` s (default 0.5, the
   writer's behaviour) moves the amount of punctuation: above 0.5 a ``,`` marks every pause
   of at least :func:`comma_gap` (s) between two words of a final; below 0.5 a sentence must
   hold :func:`min_sentence_words` (s) words before it may end, shorter ones run on. The
   engine only ever hears pauses, so ``?`` and ``!`` never appear.
3. **Replacements** (``transcript_filtering_config.replacements``): the docs' rules, see
   :mod:`~smnb.server.protocol.replacements`.
4. **Volume** (``audio_filtering_config``): each word gets ``volume``, the level of its
   audio (:class:`~smnb.server.audio.volume.VolumeGate`).

Finals keep their timing (the metadata still tiles) and their transcript is re-joined
with the client's renderer (:func:`smnb.protocol.text.join_tokens`). Stdlib only.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from smnb.protocol.messages import Message, ServerMessage
from smnb.protocol.text import join_tokens
from smnb.server.protocol.replacements import Replacement, apply_replacements, parse_replacements

_DOCS_LIST = (
    "huh aha ah aw eh err hmm mm um uh uh-oh uh-huh uh-uh mhm a-ha aah aahh aaw ah-ha ahaa ahh "
    "ahha aww eeh erm hhm hhmm hm huh-uh m-hm uggh ugh ughh uhh uhhm uhm uhmm umm uuh uuhh uum"
)
DISFLUENCIES = frozenset(_DOCS_LIST.split(" "))
"""The English hesitation sounds the service tags (docs: formatting, disfluencies)."""

SENTENCE_ENDS = ".!?"
COMMA_GAP_AT_MAX = 0.1
"""Pause (s) between two words that gets a comma at sensitivity 1."""
MIN_WORDS_AT_ZERO = 8
"""Words a sentence needs before it may end, at sensitivity 0."""

VolumeOf = Callable[[float, float], "float | None"]


def comma_gap(sensitivity: float) -> float:
    """Shortest pause between words that gets a ``,``: never at ≤ 0.5, 0.2 s at 0.75,
    0.1 s at 1 (pocketsphinx words abut unless it heard silence between them)."""
    return math.inf if sensitivity <= 0.5 else COMMA_GAP_AT_MAX / (2.0 * sensitivity - 1.0)


def min_sentence_words(sensitivity: float) -> int:
    """Words a sentence needs before it may end: 0 at ≥ 0.5, 4 at 0.25, 8 at 0."""
    return 0 if sensitivity >= 0.5 else round(MIN_WORDS_AT_ZERO * (1.0 - 2.0 * sensitivity))


@dataclass(frozen=True, slots=True)
class PostprocessConfig:
    """The transcript options of one session."""

    permitted_marks: frozenset[str] | None = None
    """``None``: every mark (the default, or ``"all"``)."""
    sensitivity: float = 0.5
    remove_disfluencies: bool = False
    replacements: tuple[Replacement, ...] = ()
    keep_case: frozenset[str] = field(default_factory=frozenset)
    """Words whose capitals are their own (``additional_vocab`` contents), never lowered."""
    volume_labels: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PostprocessConfig:
        """From a validated ``transcription_config``.

        Raises:
            ValueError: a replacement regex is malformed.
        """
        punctuation = config.get("punctuation_overrides") or {}
        marks = punctuation.get("permitted_marks")
        filtering = config.get("transcript_filtering_config") or {}
        vocab = config.get("additional_vocab") or ()
        return cls(
            permitted_marks=None if marks is None or "all" in marks else frozenset(marks),
            sensitivity=float(punctuation.get("sensitivity", 0.5)),
            remove_disfluencies=bool(filtering.get("remove_disfluencies", False)),
            replacements=parse_replacements(filtering.get("replacements") or ()),
            keep_case=frozenset(v if isinstance(v, str) else v["content"] for v in vocab),
            volume_labels="audio_filtering_config" in config,
        )

    def permits(self, mark: str) -> bool:
        return self.permitted_marks is None or mark in self.permitted_marks


class TranscriptPostprocessor:
    """Applies a :class:`PostprocessConfig` to one stream's messages; see the module docstring.

    Args:
        config: the session's options.
        volume_of: the volume of the audio between two stream times (for ``volume``).
    """

    def __init__(self, config: PostprocessConfig, volume_of: VolumeOf | None = None) -> None:
        self.config = config
        self.volume_of = volume_of
        self._gap = comma_gap(config.sensitivity)
        self._min_words = min_sentence_words(config.sensitivity)
        self._open = False  # the output has words since its last sentence end
        self._words = 0  # words in the output's current sentence
        self._last_end: float | None = None  # end of the last final word heard
        self._last_word: Message | None = None  # the last final word sent
        self._after_word = False  # the last final result sent is a word

    def process(self, messages: Sequence[Message]) -> list[Message]:
        """The messages to send instead of ``messages`` (others pass unchanged)."""
        return [self._one(msg) for msg in messages]

    def _one(self, msg: Message) -> Message:
        kind = msg.get("message")
        final = kind == ServerMessage.ADD_TRANSCRIPT
        if not final and kind != ServerMessage.ADD_PARTIAL_TRANSCRIPT:
            return msg
        out = copy.deepcopy(msg)
        results = self._final(out["results"]) if final else self._partial(out["results"])
        results = apply_replacements(self.config.replacements, results)
        if self.volume_of is not None and self.config.volume_labels:
            self._label_volume(results)
        out["results"] = results
        text = join_tokens(results)  # as clients render it (smnb.protocol.text)
        out["metadata"]["transcript"] = text + (" " if final and results else "")
        return out

    # --- finals and partials ------------------------------------------------------

    def _final(self, results: list[Message]) -> list[Message]:
        out: list[Message] = []
        for result in results:
            kind = result.get("type")
            if kind == "punctuation":
                self._mark(result, out)
            elif kind != "word":
                out.append(result)
            elif self._disfluent(result):
                self._last_end = result["end_time"]  # removed, but its time was speech
            else:
                self._comma_before(result, out)
                self._set_case(result, capital=not self._open)
                out.append(result)
                self._open, self._after_word = True, True
                self._words += 1
                self._last_end = result["end_time"]
                self._last_word = result
        return out

    def _comma_before(self, result: Message, out: list[Message]) -> None:
        """A ``,`` at a long enough pause since the previous word (sensitivity above 0.5)."""
        if not (self._open and self._after_word) or self._last_word is None:
            return
        gap = result["start_time"] - (self._last_end or 0.0)
        if gap + 1e-6 >= self._gap and self.config.permits(","):
            out.append(_mark_after(",", self._last_word))

    def _partial(self, results: list[Message]) -> list[Message]:
        out: list[Message] = []
        for result in results:
            if result.get("type") == "word" and self._disfluent(result):
                continue
            if result.get("type") == "word":
                self._set_case(result, capital=not self._open and not out)
            out.append(result)
        return out

    def _mark(self, result: Message, out: list[Message]) -> None:
        mark = result["alternatives"][0]["content"]
        if not self._open or not self._after_word:
            return  # nothing left for it to attach to (its words were removed)
        if mark not in SENTENCE_ENDS:
            if self.config.permits(mark):
                out.append(result)
                self._after_word = False
            return
        if self.config.permits(mark):
            if self._words >= self._min_words:
                out.append(result)
                self._open, self._after_word, self._words = False, False, 0
            return
        if self.config.permits(","):
            result["alternatives"][0]["content"] = ","
            result["is_eos"] = False
            out.append(result)
            self._after_word = False

    def _disfluent(self, result: Message) -> bool:
        """Tag a disfluency; True if it is to be removed."""
        alt = result["alternatives"][0]
        if str(alt.get("content", "")).lower() not in DISFLUENCIES:
            return False
        tags = alt.setdefault("tags", [])
        if "disfluency" not in tags:
            tags.append("disfluency")
        return self.config.remove_disfluencies

    def _set_case(self, result: Message, *, capital: bool) -> None:
        alt = result["alternatives"][0]
        content = str(alt["content"])
        if capital and content[:1].islower():
            alt["content"] = content[0].upper() + content[1:]
        elif not capital and self._writer_capital(content):
            alt["content"] = content[0].lower() + content[1:]

    def _writer_capital(self, content: str) -> bool:
        """Was the first letter raised only because a sentence started?"""
        if not content[:1].isupper() or content in self.config.keep_case:
            return False
        return content != "I" and not content.startswith("I'")

    # --- replacements and volume ----------------------------------------------------

    def _label_volume(self, results: list[Message]) -> None:
        assert self.volume_of is not None
        for result in results:
            if result.get("type") == "word":
                volume = self.volume_of(result["start_time"], result["end_time"])
                if volume is not None:
                    result["volume"] = round(volume, 2)


def _mark_after(mark: str, word: Message) -> Message:
    """A punctuation result attached to ``word``."""
    alt: dict[str, Any] = {"content": mark, "confidence": 1.0}
    for key in ("language", "speaker"):
        if key in word["alternatives"][0]:
            alt[key] = word["alternatives"][0][key]
    end = word["end_time"]
    result: Message = {
        "type": "punctuation",
        "start_time": end,
        "end_time": end,
        "alternatives": [alt],
        "attaches_to": "previous",
        "is_eos": False,
    }
    if "channel" in word:
        result["channel"] = word["channel"]
    return result
