"""API key lookup, temporary keys from a local management platform, and redaction."""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import sys
import threading
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import smnb
from smnb.auth import (
    DEFAULT_RT_URL,
    ApiKey,
    auth_headers,
    env_rt_url,
    find_api_key,
    mint_temp_key,
    rt_url,
)
from smnb.exceptions import AuthError
from tests.support.client import tone_server, tone_wav

LONG_KEY = "long-lived-9d2c4b-secret"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJwcm9kdWN0IjoicnQifQ.c2lnbmF0dXJl"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SPEECHMATICS_API_KEY", "SPEECHMATICS_RT_URL", "SM_MANAGEMENT_PLATFORM_URL"):
        monkeypatch.delenv(name, raising=False)


class Platform:
    """A tiny management platform on 127.0.0.1 that records what it is asked."""

    def __init__(self, status: int = 201, body: Any = None) -> None:
        self.status = status
        self.body = {"apikey_id": None, "key_value": JWT} if body is None else body
        self.requests: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                platform.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length) or b"null"),
                    }
                )
                payload = (
                    platform.body
                    if isinstance(platform.body, bytes)
                    else json.dumps(platform.body).encode()
                )
                self.send_response(platform.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # bound: connections queue
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


# --- lookup -----------------------------------------------------------------------------


def test_key_lookup_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_api_key() is None
    colab = types.ModuleType("google.colab")
    colab.userdata = types.SimpleNamespace(  # type: ignore[attr-defined]
        get=lambda name: "from-colab" if name == "SPEECHMATICS_API_KEY" else None
    )
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert find_api_key().reveal() == "from-colab"  # type: ignore[union-attr]
    monkeypatch.setenv("SPEECHMATICS_API_KEY", " from-env \n")
    assert find_api_key().reveal() == "from-env"  # type: ignore[union-attr]
    assert find_api_key("explicit").reveal() == "explicit"  # type: ignore[union-attr]


def test_a_missing_colab_secret_is_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise RuntimeError("SecretNotFoundError")

    colab = types.ModuleType("google.colab")
    colab.userdata = types.SimpleNamespace(get=missing)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert find_api_key() is None


def test_rt_url_default_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    assert rt_url() == DEFAULT_RT_URL == "wss://eu2.rt.speechmatics.com/v2"
    assert env_rt_url() is None
    monkeypatch.setenv("SPEECHMATICS_RT_URL", " wss://eu.rt.speechmatics.com/v2 ")
    assert rt_url() == env_rt_url() == "wss://eu.rt.speechmatics.com/v2"
    monkeypatch.setenv("SPEECHMATICS_RT_URL", " ")  # blank: not set
    assert env_rt_url() is None and rt_url() == DEFAULT_RT_URL


def test_a_key_never_shows_itself() -> None:
    key = ApiKey(LONG_KEY)
    assert LONG_KEY not in repr(key) and LONG_KEY not in str(key) and LONG_KEY not in f"{key}"
    assert auth_headers(key) == {"Authorization": f"Bearer {LONG_KEY}"}
    assert auth_headers(None) == {}
    with pytest.raises(TypeError):
        pickle.dumps(key)
    for bad in ("", "   ", "two words", "line\nbreak"):
        with pytest.raises(AuthError):
            ApiKey(bad)


# --- temporary keys ---------------------------------------------------------------------


def test_mint_posts_to_the_platform_and_returns_the_jwt() -> None:
    platform = Platform()
    with platform.running() as base:
        key = mint_temp_key(ApiKey(LONG_KEY), ttl=120, mp_url=base)
    assert key.reveal() == JWT
    (request,) = platform.requests
    assert request["path"] == "/v1/api_keys?type=rt"
    assert request["headers"]["Authorization"] == f"Bearer {LONG_KEY}"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {"ttl": 120}


def test_mint_uses_the_platform_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    platform = Platform()
    with platform.running() as base:
        monkeypatch.setenv("SM_MANAGEMENT_PLATFORM_URL", base + "/")
        assert mint_temp_key(ApiKey(LONG_KEY)).reveal() == JWT
    assert platform.requests[0]["body"] == {"ttl": 60}


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"code": 401, "message": "invalid key"}, r"HTTP 401 from .* \(invalid key\)"),
        (422, {"message": "ttl in body should be >= 60"}, "HTTP 422"),
        (200, {"key_value": JWT}, "expected HTTP 201"),
        (201, {"apikey_id": None}, "sent no key_value"),
        (201, b"<html>", "sent no key_value"),
    ],
)
def test_mint_failures_are_auth_errors_without_the_key(
    status: int, body: Any, message: str
) -> None:
    with Platform(status, body).running() as base, pytest.raises(AuthError, match=message) as info:
        mint_temp_key(ApiKey(LONG_KEY), mp_url=base)
    assert LONG_KEY not in str(info.value)


def test_an_unreachable_platform_is_an_auth_error() -> None:
    with pytest.raises(AuthError, match="could not reach the management platform"):
        mint_temp_key(ApiKey(LONG_KEY), mp_url="http://127.0.0.1:9", timeout=5)
    with pytest.raises(AuthError, match="ttl"):
        mint_temp_key(ApiKey(LONG_KEY), ttl=10)


async def test_a_session_with_temp_key_sends_the_jwt_not_the_long_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tones = tone_wav(tmp_path / "tones.wav")
    platform = Platform()
    monkeypatch.setenv("SPEECHMATICS_API_KEY", LONG_KEY)
    with platform.running() as base:
        monkeypatch.setenv("SM_MANAGEMENT_PLATFORM_URL", base)
        # The RT server accepts only the JWT: success proves the long key never went there.
        async with tone_server(api_key=JWT) as url:
            result = await smnb.atranscribe(
                tones, url=url, temp_key=True, pace="fast", out=tmp_path / "out"
            )
    assert result.completed and len(platform.requests) == 1
    written = "".join(p.read_text() for p in (tmp_path / "out").iterdir())
    for text in (caplog.text, written, repr(result)):
        assert LONG_KEY not in text and JWT not in text
