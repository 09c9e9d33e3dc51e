"""The one credential scrubber: URLs, free text, JSON-like values and log records.

The recorder never stores an API key (the transport removes it before the
``Session`` note is written), but a repr, a ``summary.json`` or an exported
``messages.jsonl`` is shared far more widely than a live session, so they are
scrubbed again here: URL user-info and credential query parameters (``jwt=``,
``auth_token=``, …) are removed, ``Bearer …`` values blanked, and any mapping
key that names a credential (``Authorization``, ``api_key``, ``token``, …)
has its value replaced (flags such as ``authenticated: true`` stay readable).
:class:`RedactingFilter` applies the same rules to log records (the WebSocket
library logs handshake headers at DEBUG, on the client and on the server).

Stdlib only.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "<redacted>"

__all__ = ["REDACTED", "RedactingFilter", "redact_url", "sanitize", "scrub_text"]

_SECRET_KEY = re.compile(
    r"auth|token|api[_-]?key|secret|passw|jwt|bearer|credential|cookie", re.IGNORECASE
)
_BEARER = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT_PARAM = re.compile(r"([?&;])(jwt|token|auth_token|api_key|key|access_token)=[^&;\s\"']*")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>]+", re.IGNORECASE)
SUSPECT = re.compile(r"jwt|bearer|token|auth|api[_-]?key|secret|passw|://[^/\s\"]*@", re.I)
"""A cheap pre-check: text that cannot match this needs no scrubbing."""


def redact_url(url: str) -> str:
    """``url`` without user-info and without credential query parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _JWT_PARAM.sub(r"\1", url)
    netloc = parts.netloc.rpartition("@")[2]
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _secret_key(k)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))


def scrub_text(text: str) -> str:
    """Free text with URLs redacted and ``Bearer …`` values blanked."""
    if not SUSPECT.search(text):
        return text
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    text = _JWT_PARAM.sub(r"\1", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def sanitize(value: Any) -> Any:
    """A deep copy of a JSON-like value with credentials removed."""
    if isinstance(value, dict):
        return {k: (REDACTED if _is_secret(k, v) else sanitize(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [sanitize(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


class RedactingFilter(logging.Filter):
    """Blanks credentials in a log record's rendered message (see :func:`scrub_text`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def _secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def _is_secret(key: Any, value: Any) -> bool:
    # A credential-named key with a value worth hiding; a bool says nothing secret.
    return isinstance(key, str) and _secret_key(key) and bool(value) and not isinstance(value, bool)
