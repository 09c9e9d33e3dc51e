"""The one credential scrubber: known secrets, URLs, free text, JSON-like values, logs.

The recorder never stores an API key (the transport removes it before the
``Session`` note is written), but a repr, a ``summary.json``, an exported
``messages.jsonl`` or a ``-vv`` log is shared far more widely than a live
session, so everything shown or written passes through here:

- every **known secret** (:func:`register_secret`: each :class:`smnb.auth.ApiKey`,
  temporary keys, a local server's key, credentials found in a URL the user gave)
  is replaced wherever its exact value appears, whatever characters it holds, also
  percent-encoded, JSON-escaped or ``repr``-escaped;
- URL user-info (everything up to the last ``@`` of the authority, so a key holding
  ``#``, ``/`` or ``?`` is still cut whole) and credential query parameters
  (``jwt=``, ``auth_token=`` …) are removed;
- ``Bearer …`` values and whole ``Authorization:``/``Cookie:`` header lines are
  blanked; any mapping key that names a credential (``Authorization``, ``api_key``,
  ``token`` …) has its value replaced (flags such as ``authenticated: true`` stay);
- server free text bound for an exception or a printed line is made one safe line
  (:func:`one_line`: no control characters or terminal escapes, bounded);
- error bodies of the temporary-key service are reduced to one scrubbed, bounded
  line (:func:`service_error_detail`).

:class:`RedactingFilter` (a library logger) and :class:`RedactingFormatter` (a
handler: the whole formatted line, traceback included) apply the same rules to logs.

Stdlib only.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

REDACTED = "<redacted>"

MIN_SECRET_CHARS = 6
"""Shorter values are not redacted by exact match (they would blank ordinary words);
the pattern rules below still apply to them."""

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "RedactingFormatter",
    "one_line",
    "redact_url",
    "register_secret",
    "register_url_secrets",
    "sanitize",
    "scrub_text",
    "service_error_detail",
]

_SECRET_KEY = re.compile(
    r"auth|token|api[_-]?key|secret|passw|jwt|bearer|credential|cookie", re.IGNORECASE
)
_BEARER = re.compile(r"\b(Bearer|Basic|Token)[ \t]+(?!<redacted>)\S+", re.IGNORECASE)
_HEADER_LINE = re.compile(
    r"^([<>]?[ \t]*(?:proxy-)?(?:authorization|cookie|set-cookie|x-api-key)[ \t]*:[ \t]*)"
    r"(?:(Bearer|Basic|Token)[ \t]+)?(.+)$",
    re.IGNORECASE | re.MULTILINE,
)
_JWT_PARAM = re.compile(r"([?&;])(jwt|token|auth_token|api_key|key|access_token)=[^&;\s\"']*")
_CREDENTIAL_VALUE = re.compile(r"[?&;](?:jwt|token|auth_token|api_key|key|access_token)=([^&;]*)")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>]+", re.IGNORECASE)
_JWT_SHAPE = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
SUSPECT = re.compile(r"jwt|bearer|basic|token|auth|cookie|api[_-]?key|secret|passw|://\S*@", re.I)
"""A cheap pre-check: text that cannot match this (nor hold a known secret) needs no
pattern scrubbing."""

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_pattern: re.Pattern[str] | None = None


# --- known secrets ---------------------------------------------------------------------


def register_secret(value: str | None) -> None:
    """Remember ``value`` so that it is redacted wherever it appears, in any encoding.

    Called for every :class:`smnb.auth.ApiKey` (long-lived and temporary), a local
    server's key, and the credentials of a URL the user gave. Process-wide; values
    shorter than :data:`MIN_SECRET_CHARS` are ignored.
    """
    if not isinstance(value, str) or len(value) < MIN_SECRET_CHARS:
        return
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        value.encode("utf-8").decode("latin-1"),  # UTF-8 bytes read back as latin-1
    }
    global _secret_pattern
    with _lock:
        new = {f for f in forms if len(f) >= MIN_SECRET_CHARS} - _secrets
        if not new:
            return
        _secrets.update(new)
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: no partial match
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def register_url_secrets(url: str) -> None:
    """Register the user-info and credential query values of ``url`` as secrets."""
    _, _, rest = url.partition("://")
    userinfo = rest.rpartition("@")[0] if "@" in rest else ""
    if userinfo:
        register_secret(userinfo)
        register_secret(userinfo.partition(":")[2])  # the password alone
        register_secret(base64.b64encode(userinfo.encode()).decode())  # HTTP Basic
    for match in _CREDENTIAL_VALUE.finditer(url):
        register_secret(match.group(1))


def _redact_secrets(text: str) -> str:
    pattern = _secret_pattern
    return text if pattern is None else pattern.sub(REDACTED, text)


# --- URLs and text ---------------------------------------------------------------------


def redact_url(url: str) -> str:
    """``url`` without user-info and without credential query parameters."""
    url = _redact_secrets(url)
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        # Everything up to the last "@" is user-info, even when it holds "/", "?" or "#"
        # (a URL parser would split a key like "a#b" and leave its tail in the "host").
        rest = rest.rpartition("@")[2]
        url = f"{scheme}{sep}{rest}"
    try:
        parts = urlsplit(url)
    except ValueError:
        return _JWT_PARAM.sub(r"\1", url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _secret_key(k)
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def scrub_text(text: str) -> str:
    """Free text with known secrets and URL credentials removed, ``Bearer …`` blanked."""
    text = _redact_secrets(text)
    if not SUSPECT.search(text):
        return text
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    text = _JWT_PARAM.sub(r"\1", text)
    text = _HEADER_LINE.sub(_header_line, text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_]?)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")

ONE_LINE_CHARS = 300
"""The longest :func:`one_line` result (an ``Error`` reason is a sentence, not a page)."""


def one_line(text: object, *, limit: int = ONE_LINE_CHARS) -> str:
    """Untrusted text (a server ``reason``, a bad frame) as one line safe to show.

    Credentials are removed (:func:`scrub_text`), terminal escape sequences and other
    control characters dropped, all whitespace runs (newlines too) collapsed to one
    space, and the result cut to ``limit`` characters, after scrubbing, so a cut
    never exposes a key's prefix.
    """
    clean = _CONTROL.sub(" ", _ESCAPE.sub("", scrub_text(str(text))))
    line = scrub_text(" ".join(clean.split()))  # again: an escape may have split a key
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _header_line(match: re.Match[str]) -> str:
    scheme = f"{match.group(2)} " if match.group(2) else ""
    return f"{match.group(1)}{scheme}{REDACTED}"


def sanitize(value: Any) -> Any:
    """A deep copy of a JSON-like value with credentials removed."""
    if isinstance(value, dict):
        return {k: (REDACTED if _is_secret(k, v) else sanitize(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [sanitize(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def service_error_detail(body: bytes | str | None, *, limit: int = 200) -> str:
    """One scrubbed line from an error body of a key service (``""`` if it says nothing).

    A JSON body gives its ``message``/``detail``/``error`` field; anything else its
    text. Known secrets, URL credentials and anything shaped like a JWT are removed
    *before* the line is cut to ``limit`` characters, so a cut never exposes a prefix.
    """
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        fields = (payload.get(k) for k in ("message", "detail", "error", "reason"))
        text = next((str(v) for v in fields if v), "")
    elif payload is not None:
        text = str(payload)
    return one_line(_JWT_SHAPE.sub(REDACTED, scrub_text(text)), limit=limit)


# --- logs ------------------------------------------------------------------------------


class RedactingFilter(logging.Filter):
    """Blanks credentials in a log record's rendered message (see :func:`scrub_text`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output (message, traceback, stack) is scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub_text(super().format(record))


def _secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def _is_secret(key: Any, value: Any) -> bool:
    # A credential-named key with a value worth hiding; a bool says nothing secret.
    return isinstance(key, str) and _secret_key(key) and bool(value) and not isinstance(value, bool)
