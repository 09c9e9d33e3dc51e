"""smnb.recorder.sanitize, the one credential scrubber: URLs, free text, values, log records."""

from __future__ import annotations

import io
import json
import logging

import pytest

from smnb.recorder.sanitize import (
    REDACTED,
    RedactingFilter,
    RedactingFormatter,
    one_line,
    redact_url,
    register_secret,
    register_url_secrets,
    sanitize,
    scrub_text,
    service_error_detail,
)

LONG_KEY = "sk-LONG-LIVED-3c9f2a7e-never-show"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzbW5iIn0.c2lnbmF0dXJl"


def test_redaction_of_urls_and_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    assert redact_url(f"wss://host/v2?jwt={JWT}&sm-app=x") == "wss://host/v2?sm-app=x"
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.DEBUG, logger="test.redaction"):
        logger.debug("> %s: %s", "Authorization", f"Bearer {LONG_KEY}")
        logger.debug("> GET /v2?jwt=%s HTTP/1.1", JWT)
    assert LONG_KEY not in caplog.text and JWT not in caplog.text
    assert "Bearer <redacted>" in caplog.text


def test_free_text_loses_bearer_values_and_credential_parameters() -> None:
    text = f"GET wss://user:pw@h/v2?jwt={JWT}&x=1 with Authorization: Bearer {LONG_KEY}"
    clean = scrub_text(text)
    assert LONG_KEY not in clean and JWT not in clean and "user:pw" not in clean
    assert "wss://h/v2?x=1" in clean and f"Bearer {REDACTED}" in clean
    assert scrub_text("nothing to see here") == "nothing to see here"


def test_values_are_scrubbed_deeply_but_flags_and_empties_stay() -> None:
    value = {
        "Authorization": f"Bearer {LONG_KEY}",
        "nested": [{"api_key": LONG_KEY, "note": f"token={JWT}"}],
        "authenticated": True,
        "token": "",
        "url": f"wss://h/v2?auth_token={JWT}",
    }
    clean = sanitize(value)
    assert clean == {
        "Authorization": REDACTED,
        "nested": [{"api_key": REDACTED, "note": f"token={JWT}"}],
        "authenticated": True,
        "token": "",
        "url": "wss://h/v2",
    }
    assert value["nested"][0]["api_key"] == LONG_KEY  # a copy: the original is untouched


@pytest.mark.parametrize("url", ["not a url", "wss://[::1/v2?jwt=x"])
def test_odd_urls_never_raise(url: str) -> None:
    assert "jwt=x" not in redact_url(url)


# --- keys of every character class ------------------------------------------------------

ODD_KEYS = [
    "sk!odd$chars%20:&x=0123#TAIL",
    "sk-ünïcødé-ß-µ-éèê-latin1",
    "sk\"quote'd`back\\slash<angle>",
    "sk with spaces inside it",
    "sk-ключ-секрет-鍵-🔑-wide",
    "sk+/=~.-_*()[]{}|^?@;,",
]


def leaks(key: str, text: str, width: int = 6) -> list[str]:
    """Every piece of ``key`` (``width`` characters or more) that appears in ``text``."""
    return [key[i : i + width] for i in range(len(key) - width + 1) if key[i : i + width] in text]


@pytest.mark.parametrize("key", ODD_KEYS)
def test_a_known_key_is_redacted_whatever_it_holds(key: str) -> None:
    register_secret(key)
    from urllib.parse import quote, quote_plus

    texts = [
        f"> Authorization: Bearer {key}",
        f"sending {key} now",
        f"GET /v2?jwt={quote(key, safe='')}&sm-app=x",
        f"ws://user:{key}@host:9/v2",
        f"ws://user:{quote(key, safe='')}@host:9/v2",
        f"form {quote_plus(key)} end",
        json.dumps({"key": key, "note": f"it was {key}"}),
        json.dumps({"note": f"it was {key}"}, ensure_ascii=False),
        repr({"Authorization": f"Bearer {key}"}),
        repr([key]),
    ]
    for text in texts:
        clean = scrub_text(text)
        assert leaks(key, clean) == [], (text, clean)
    assert leaks(key, redact_url(f"ws://user:{key}@host:9/v2")) == []
    assert leaks(key, json.dumps(sanitize({"message": f"echo {key}"}))) == []


@pytest.mark.parametrize(
    "key", ["sk!unknown$odd%20:&x=9876#TAIL", "sk-unknown-ÄÖÜ-ü", "sk'unknown\"quo`te"]
)
def test_an_unknown_key_in_a_header_url_or_bearer_is_still_removed(key: str) -> None:
    # Never registered: the pattern rules alone (a key no ApiKey ever held).
    assert leaks(key, scrub_text(f"> Authorization: Bearer {key}")) == []
    assert leaks(key, scrub_text(f"< authorization: {key}")) == []
    assert leaks(key, scrub_text(f"header Bearer {key}")) == []
    assert leaks(key, redact_url(f"ws://user:{key}@127.0.0.1:9/v2")) == []
    assert redact_url(f"ws://user:{key}@127.0.0.1:9/v2") == "ws://127.0.0.1:9/v2"


def test_the_url_credentials_a_user_gave_are_remembered() -> None:
    password = "pw!odd#part/with?marks"
    url = f"wss://alice:{password}@h.example/v2?jwt=token-xyz-123&sm-app=a"
    register_url_secrets(url)
    assert leaks(password, scrub_text(f"failed with {password}")) == []
    assert leaks("token-xyz-123", scrub_text("echo token-xyz-123")) == []
    assert redact_url(url) == "wss://h.example/v2?sm-app=a"


@pytest.mark.parametrize("key", ODD_KEYS[:3])
def test_logs_are_scrubbed_whole_tracebacks_included(key: str) -> None:
    register_secret(key)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("test.redaction.formatter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("header %s", f"Bearer {key}")
        try:
            raise RuntimeError(f"the server echoed {key}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" in text and leaks(key, text) == []


def test_a_key_service_error_body_is_one_scrubbed_bounded_line() -> None:
    key = "sk-service-echo-7f3a9b"
    register_secret(key)
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXgteQ"
    body = json.dumps({"code": 401, "message": f"key {key} rejected;\n token {jwt} expired"})
    line = service_error_detail(body.encode())
    assert "\n" not in line and key not in line and jwt not in line
    assert line.startswith("key <redacted> rejected;")
    assert service_error_detail(b"<html>" + b"x" * 500).endswith("…")
    assert len(service_error_detail(b"y" * 1000)) == 200
    assert service_error_detail(b"") == "" and service_error_detail(None) == ""


def test_one_line_makes_server_text_safe_to_show() -> None:
    key = "sk!odd$chars%20:&x=0123#TAIL"
    register_secret(key)
    text = f"boom\nsecond line\r\nthird \x1b[31mred\x1b[0m \x1b]0;title\x07x\x00y\u2028z {key}"
    assert one_line(text) == "boom second line third red x y z <redacted>"
    # An escape sequence splitting the key does not smuggle it past the scrubber.
    assert one_line(f"{key[:5]}\x1b[0m{key[5:]}") == REDACTED
    assert one_line("\x9b31m C1 \x7f del") == "31m C1 del"
    assert one_line(42) == "42"


def test_one_line_cuts_after_scrubbing() -> None:
    key = "sk-CUT-" + "x" * 40
    register_secret(key)
    line = one_line("y" * 295 + key, limit=300)
    assert len(line) <= 300 and line.endswith("…")
    assert "sk-CUT" not in line  # the key went before the cut: no prefix of it is left
    assert one_line("a " * 10, limit=5) == "a a …"
