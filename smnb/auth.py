"""API keys: where they come from, temporary keys (JWT), and keeping them secret.

Lookup order: an explicit ``api_key`` argument, then ``SPEECHMATICS_API_KEY``
in the environment, then the Colab secret of the same name. A key travels as
an :class:`ApiKey`, whose ``repr``/``str`` never show it, and only ever leaves
the process in an ``Authorization: Bearer`` header: it is never put in a URL,
a record, a log line or an exception message. Logs from the WebSocket library
go through :class:`~smnb.recorder.sanitize.RedactingFilter` (the one
scrubber), which blanks ``Bearer`` values and credential query parameters.

A temporary key is minted from the management platform
(``POST {SM_MANAGEMENT_PLATFORM_URL}/v1/api_keys?type=rt``, HTTP 201 with
``key_value``), so the long-lived key never reaches the RT endpoint.

Stdlib only (urllib); imports only :mod:`smnb.exceptions` and :mod:`smnb.recorder`
(for the scrubber); never websockets, pandas or the transport.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from smnb._version import __version__
from smnb.exceptions import AuthError
from smnb.recorder.sanitize import (
    RedactingFilter,
    redact_url,
    register_secret,
    service_error_detail,
)

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

ENV_API_KEY = "SPEECHMATICS_API_KEY"
ENV_RT_URL = "SPEECHMATICS_RT_URL"
ENV_MP_URL = "SM_MANAGEMENT_PLATFORM_URL"
DEFAULT_RT_URL = "wss://eu2.rt.speechmatics.com/v2"
"""The endpoint the official Python and JS clients default to."""
DEFAULT_MP_URL = "https://mp.speechmatics.com"
TEMP_KEY_TTL = (60, 86_400)
"""Allowed lifetime of a temporary key, in seconds."""

__all__ = [
    "DEFAULT_MP_URL",
    "DEFAULT_RT_URL",
    "ApiKey",
    "RedactingFilter",
    "auth_headers",
    "env_rt_url",
    "find_api_key",
    "mint_temp_key",
    "redact_url",
    "rt_url",
]


class ApiKey:
    """A secret that does not print itself.

    ``repr(key)`` and ``str(key)`` are ``ApiKey(<redacted>)``; :meth:`reveal`
    returns the value (only the transport and the key minting call it).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise AuthError(f"an API key must be a string, not {type(value).__name__}")
        value = value.strip()
        if not value:
            raise AuthError("the API key is empty")
        register_secret(value)  # from now on redacted wherever it appears
        if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
            raise AuthError("the API key contains whitespace or control characters")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise AuthError(
                "the API key contains characters an HTTP header cannot carry "
                "(only ISO-8859-1); check that it was copied whole"
            ) from None
        self._value = value

    def reveal(self) -> str:
        """The secret itself."""
        return self._value

    def __repr__(self) -> str:
        return "ApiKey(<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # A pickled handle or config must not carry the key to disk.
        raise TypeError("ApiKey cannot be pickled")


def find_api_key(explicit: str | ApiKey | None = None) -> ApiKey | None:
    """The API key to use, or ``None`` if there is none.

    Order: ``explicit`` → ``SPEECHMATICS_API_KEY`` → Colab secret ``SPEECHMATICS_API_KEY``.
    """
    if isinstance(explicit, ApiKey):
        return explicit
    if explicit is not None:
        return ApiKey(explicit)
    env = os.environ.get(ENV_API_KEY, "").strip()
    if env:
        return ApiKey(env)
    colab = _colab_secret()
    return ApiKey(colab) if colab else None


def env_rt_url() -> str | None:
    """``SPEECHMATICS_RT_URL`` if set, else None.

    The endpoint rule: an explicit ``url``, else this variable (with or without a key: an
    on-prem container needs none, and no key means no ``Authorization`` header), else the
    SaaS (:data:`DEFAULT_RT_URL`) with a key, else smnb's embedded local server.
    """
    return os.environ.get(ENV_RT_URL, "").strip() or None


def rt_url() -> str:
    """The SaaS RT endpoint: ``SPEECHMATICS_RT_URL`` or the official clients' default."""
    return env_rt_url() or DEFAULT_RT_URL


def auth_headers(key: ApiKey | None) -> dict[str, str]:
    """Handshake headers for ``key`` (none without a key)."""
    return {"Authorization": f"Bearer {key.reveal()}"} if key is not None else {}


def mint_temp_key(
    key: ApiKey, *, ttl: int = 60, mp_url: str | None = None, timeout: float = 10.0
) -> ApiKey:
    """Exchange a long-lived key for a temporary RT key (a JWT).

    Blocking (urllib); async callers run it in a thread.

    Args:
        key: the long-lived API key.
        ttl: lifetime in seconds (60–86400). The key only has to be valid when
            the connection opens.
        mp_url: the management platform; default ``SM_MANAGEMENT_PLATFORM_URL``
            or ``https://mp.speechmatics.com``.

    Raises:
        AuthError: the platform refused, was unreachable, or answered oddly.
    """
    low, high = TEMP_KEY_TTL
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not low <= ttl <= high:
        raise AuthError(f"temporary key ttl must be an integer in {low}–{high} s, not {ttl!r}")
    base = (mp_url or os.environ.get(ENV_MP_URL, "").strip() or DEFAULT_MP_URL).rstrip("/")
    url = f"{base}/v1/api_keys?type=rt"
    shown = redact_url(base)
    request = urllib.request.Request(
        url,
        data=json.dumps({"ttl": ttl}).encode(),
        headers={
            "Authorization": f"Bearer {key.reveal()}",
            "Content-Type": "application/json",
            "User-Agent": f"smnb/{__version__}",
        },
        method="POST",
    )
    try:
        with _opener(url).open(request, timeout=timeout) as response:
            status = response.status
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = _error_detail(exc)
        if exc.code in (401, 403):
            detail += "; check the long-lived key (SPEECHMATICS_API_KEY)"
        raise AuthError(
            f"could not mint a temporary key: HTTP {exc.code} from {shown}{detail}"
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AuthError(f"could not reach the management platform at {shown}: {reason}") from exc
    if status != 201:
        raise AuthError(
            f"could not mint a temporary key: expected HTTP 201 from {shown}, got {status}"
        )
    try:
        value = json.loads(body)["key_value"]
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthError(f"the management platform at {shown} sent no key_value") from exc
    if not isinstance(value, str) or not value.strip():
        raise AuthError(f"the management platform at {shown} sent an empty key_value")
    logger.info("minted a temporary RT key (ttl %d s) from %s", ttl, shown)
    return ApiKey(value)


def _colab_secret() -> str | None:
    try:
        from google.colab import userdata
    except ImportError:
        return None
    try:
        value = userdata.get(ENV_API_KEY)
    except Exception:  # SecretNotFoundError, NotebookAccessError: no secret to use
        return None
    return value if isinstance(value, str) and value.strip() else None


def _opener(url: str) -> urllib.request.OpenerDirector:
    # A proxy configured for the internet must not intercept a loopback platform.
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read()
    except OSError:
        return ""
    detail = service_error_detail(body)  # the body may echo the key: scrubbed, bounded
    return f" ({detail})" if detail else ""
