"""smnb.recorder.sanitize, the one credential scrubber: URLs, free text, values, log records."""

from __future__ import annotations

import logging

import pytest

from smnb.recorder.sanitize import REDACTED, RedactingFilter, redact_url, sanitize, scrub_text

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
