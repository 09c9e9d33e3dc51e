"""The one token/text model: result items → tokens → text, as every view shows it.

A :class:`Token` is one displayed result item (word, entity or punctuation) with
its ``attaches_to``; :func:`join` renders tokens the way the legacy Speechmatics
CLI does (``adapters.join_tokens``): ``previous`` punctuation sticks to the last
token, ``next`` prefixes the next word, ``both`` glues its neighbours, ``none``
stands alone, and tokens are separated by the session's word delimiter
(``language_pack_info.word_delimiter``; ``""`` for ``ja``/``cmn`` when the
server does not say). :func:`turns` splits tokens into speaker turns and
:func:`labelled` writes the ``"<channel> <speaker>: "`` prefix of a line.

The tables (``utterances``, ``text``), the live widget state, the CLI's
running line and the local server's ``AddTranscript.metadata.transcript`` all
render with these functions, so the same session reads the same everywhere.

A pure function of protocol results: stdlib only (the protocol core's contract),
so the widgets, the CLI and the server use it without loading pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from smnb.protocol.messages import Message

AttachesTo = Literal["none", "previous", "next", "both"]

DEFAULT_DELIMITER = " "
NO_DELIMITER_LANGUAGES = frozenset({"ja", "cmn"})  # the legacy CLI's fallback
WORDLIKE = frozenset({"word", "entity"})
_ATTACHES: frozenset[str] = frozenset({"none", "previous", "next", "both"})


def first_alternative(result: Message) -> Message:
    """``alternatives[0]`` of a result, or an empty dict."""
    alts = result.get("alternatives")
    if isinstance(alts, list) and alts and isinstance(alts[0], dict):
        return alts[0]
    return {}


def content_of(result: Message) -> str | None:
    """The display text of a result: ``alternatives[0].content``.

    An entity without alternatives falls back to its ``written_form`` words.
    """
    content = _text(first_alternative(result).get("content"))
    if content is None and result.get("type") == "entity":
        forms = result.get("written_form")
        if isinstance(forms, list):
            parts = [first_alternative(f).get("content") for f in forms if isinstance(f, dict)]
            content = " ".join(p for p in parts if isinstance(p, str) and p) or None
    return content


@dataclass(frozen=True, slots=True)
class Token:
    """One displayed result item.

    Words and entities never attach (``attaches_to == "none"``); punctuation
    attaches as the server says, ``previous`` when it does not.
    """

    content: str
    kind: str = "word"  # the result's type: word, entity, punctuation
    attaches_to: AttachesTo = "none"
    start_time: float | None = None
    end_time: float | None = None
    speaker: str | None = None

    @property
    def is_word(self) -> bool:
        return self.kind in WORDLIKE

    @property
    def glue_prev(self) -> bool:
        """True when nothing separates this token from the one before."""
        return self.attaches_to in ("previous", "both")

    @property
    def glue_next(self) -> bool:
        """True when nothing separates this token from the one after."""
        return self.attaches_to in ("next", "both")

    @classmethod
    def from_result(cls, result: Message) -> Token | None:
        """The token of one result item; ``None`` when it has nothing to show."""
        content = content_of(result)
        if not content:
            return None
        kind = result.get("type")
        kind = kind if isinstance(kind, str) else ""  # untyped items attach like punctuation
        attaches: Any = "none"
        if kind not in WORDLIKE:
            attaches = result.get("attaches_to")
            if attaches not in _ATTACHES:
                attaches = "previous"
        return cls(
            content=content,
            kind=kind,
            attaches_to=attaches,
            start_time=_number(result.get("start_time")),
            end_time=_number(result.get("end_time")),
            speaker=_text(first_alternative(result).get("speaker")),
        )


def tokens_of(payload: Message) -> list[Token]:
    """The tokens of a transcript message, in order (malformed and empty items skipped)."""
    results = payload.get("results")
    if not isinstance(results, list):
        return []
    return tokens_from(r for r in results if isinstance(r, dict))


def tokens_from(results: Iterable[Message]) -> list[Token]:
    """Tokens of result items (items with nothing to show are skipped)."""
    return [tok for tok in map(Token.from_result, results) if tok is not None]


def join(tokens: Iterable[Token], delimiter: str = DEFAULT_DELIMITER) -> str:
    """Tokens as text, joined the legacy CLI's way (see the module doc)."""
    contents: list[str] = []
    pending = ""  # punctuation waiting to prefix the next word
    for token in tokens:
        content = token.content
        if not content:  # nothing to show: no stray delimiters either
            continue
        if token.is_word:
            contents.append(pending + content)
            pending = ""
        elif token.attaches_to == "next":
            pending += content
        elif token.attaches_to == "none":
            contents.append(content)
        elif token.attaches_to == "both":
            pending = (contents.pop() if contents else "") + pending + content
        elif contents:  # previous
            contents[-1] += content
        else:  # nothing to attach to: keep the mark rather than drop it
            contents.append(content)
    if pending:
        contents.append(pending)
    return delimiter.join(contents)


def join_tokens(results: Iterable[Message], delimiter: str = DEFAULT_DELIMITER) -> str:
    """Result items (``AddTranscript.results``) as text: :func:`join` of their tokens."""
    return join(tokens_from(results), delimiter)


def turns(tokens: Sequence[Token]) -> list[tuple[str | None, list[Token]]]:
    """Consecutive runs of tokens by the same speaker; attached punctuation joins its run."""
    out: list[tuple[str | None, list[Token]]] = []
    for tok in tokens:
        speaker = tok.speaker
        if out and (speaker is None or tok.glue_prev or speaker == out[-1][0]):
            out[-1][1].append(tok)
        else:
            out.append((speaker, [tok]))
    return out


def labelled(body: str, channel: str | None = None, speaker: str | None = None) -> str:
    """``"<channel> <speaker>: body"``; the body alone when there is neither label."""
    prefix = " ".join(p for p in (channel, speaker) if p)
    return f"{prefix}: {body}" if prefix else body


# --- the word delimiter -------------------------------------------------------------


def delimiter_for(language: Any) -> str:
    """The delimiter to assume for a language the server said nothing about."""
    return "" if language in NO_DELIMITER_LANGUAGES else DEFAULT_DELIMITER


def announced_delimiter(payload: Message) -> str | None:
    """``language_pack_info.word_delimiter`` of a ``RecognitionStarted``, if it says."""
    info = payload.get("language_pack_info")
    if isinstance(info, dict) and isinstance(info.get("word_delimiter"), str):
        return str(info["word_delimiter"])
    return None


def requested_language(payload: Message) -> Any:
    """``transcription_config.language`` of a ``StartRecognition`` (None if absent)."""
    config = payload.get("transcription_config")
    return config.get("language") if isinstance(config, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
