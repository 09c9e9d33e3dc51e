"""``transcript_filtering_config.replacements``: the service's word-replacement rules.

Docs (formatting, word replacement): plain rules are processed first, case-sensitive, whole
words; a ``from`` of several words here matches consecutive words of one message and makes
one result of them. If no plain rule matches, ``/regex/flags`` rules (ECMAScript syntax as
far as Python's ``re`` shares it: named groups and ``\\k<name>`` are translated; ``$1``,
``$&``, ``$<name>``, ``$$`` in ``to``) are tried in order, each replacing all its matches in
the word. Once a rule matches a word no other is applied to it. An empty result removes the
word. A malformed regex fails the session (``invalid_config``), as in the service.

Stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from smnb.protocol.messages import Message


@dataclass(frozen=True, slots=True)
class Replacement:
    """One ``{from, to}`` rule: plain words or a compiled regex."""

    source: str
    to: str
    words: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None

    def substitute(self, content: str) -> str | None:
        """The word after this regex rule, or None if it does not match."""
        assert self.pattern is not None
        if self.pattern.search(content) is None:
            return None
        return self.pattern.sub(lambda m: _expand(self.to, m), content)


_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "g": 0, "u": 0}


def parse_replacements(rules: Sequence[Mapping[str, str]]) -> tuple[Replacement, ...]:
    """Compile ``replacements``.

    Raises:
        ValueError: naming the rule whose regex is malformed (the service fails the session).
    """
    out = []
    for i, rule in enumerate(rules):
        source, to = rule["from"], rule["to"]
        end = source.rfind("/")
        if source.startswith("/") and end > 0:
            body, flags = source[1:end], source[end + 1 :]
            try:
                if any(f not in _FLAGS for f in flags):
                    raise re.error(f"unknown flag in {flags!r}")
                value = 0
                for f in flags:
                    value |= _FLAGS[f]
                pattern = re.compile(_python_regex(body), value)
            except re.error as exc:
                raise ValueError(
                    f"replacements[{i}] {source!r} is not a valid regex: {exc}"
                ) from exc
            out.append(Replacement(source, to, pattern=pattern))
        elif source.split():
            out.append(Replacement(source, to, words=tuple(source.split())))
    return tuple(out)


def _python_regex(body: str) -> str:
    """ECMAScript named groups and back-references in Python's spelling."""
    body = re.sub(r"\(\?<(?![=!])", "(?P<", body)
    return re.sub(r"\\k<(\w+)>", r"(?P=\1)", body)


_TEMPLATE = re.compile(r"\$(\$|&|`|'|\d{1,2}|<\w+>)")


def _expand(template: str, match: re.Match[str]) -> str:
    """ECMAScript ``String.replace`` substitutions: $$, $&, $`, $', $n, $<name>."""

    def one(token: re.Match[str]) -> str:
        key = token.group(1)
        if key == "$":
            return "$"
        if key == "&":
            return match.group(0)
        if key == "`":
            return match.string[: match.start()]
        if key == "'":
            return match.string[match.end() :]
        if key.startswith("<"):
            name = key[1:-1]
            return (match.groupdict().get(name) or "") if name in match.re.groupindex else ""
        number = int(key)
        if 0 < number <= match.re.groups:
            return match.group(number) or ""
        return token.group(0)

    return _TEMPLATE.sub(one, template)


def apply_replacements(rules: Sequence[Replacement], results: list[Message]) -> list[Message]:
    """``results`` with the rules applied: plain rules first, then the first matching regex."""
    if not rules:
        return results
    out: list[Message] = []
    i = 0
    while i < len(results):
        result = results[i]
        if result.get("type") != "word":
            out.append(result)
            i += 1
            continue
        plain = next((r for r in rules if r.words and _matches(results, i, r.words)), None)
        alt = result["alternatives"][0]
        if plain is not None:
            result["end_time"] = results[i + len(plain.words) - 1]["end_time"]
            alt["content"] = plain.to
            i += len(plain.words)
        else:
            for rule in rules:
                if rule.pattern is not None:
                    changed = rule.substitute(str(alt["content"]))
                    if changed is not None:
                        alt["content"] = changed
                        break
            i += 1
        if alt["content"]:
            out.append(result)
    return out


def _matches(results: list[Message], i: int, words: tuple[str, ...]) -> bool:
    span = results[i : i + len(words)]
    return len(span) == len(words) and all(
        r.get("type") == "word" and r["alternatives"][0]["content"] == w
        for r, w in zip(span, words, strict=True)
    )
