"""``smnb serve``: run the local RT v2 server until Ctrl-C or SIGTERM.

Prints the URL on one line (flushed) as soon as connections are accepted, so a
script can read it, and the engine's capacity (how many real-time sessions this machine
decodes at once; more are refused with ``quota_exceeded``) on stderr; exits 0 on a clean
stop.

The key a server requires is best given in ``SMNB_SERVE_API_KEY`` or ``--api-key-file``:
``--api-key KEY`` still works but warns, since every user of the machine can read a
process's arguments (``ps``).

Must not import the client session (:mod:`smnb.session`).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from smnb.cli.main import EXIT_BAD_INPUT, EXIT_OK
from smnb.exceptions import ConfigError
from smnb.server.protocol.limits import IDLE_TIMEOUT, MAX_SESSION_LENGTH

API_KEY_ENV = "SMNB_SERVE_API_KEY"
"""The environment variable holding the key the server requires (kept out of ``ps``)."""


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand to the top-level parser."""
    parser = subparsers.add_parser(
        "serve",
        help="run the local Speechmatics RT v2 server (offline pocketsphinx recognizer)",
        description=(
            "Run smnb's local Speechmatics Real-Time (RT v2) server. Official clients work "
            "against it unchanged, e.g. speechmatics-rt with url='ws://127.0.0.1:9000/v2', or "
            "'speechmatics rt transcribe --url ws://127.0.0.1:9000/v2 --ssl-mode none FILE'. "
            "The URL is printed on one line once the server accepts connections. "
            "Stop it with Ctrl-C or SIGTERM."
        ),
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help=f"address to listen on (default: 127.0.0.1); anything but loopback needs a key "
        f"({API_KEY_ENV} or --api-key-file) or --allow-remote",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=9000,
        help="TCP port to listen on (default: 9000, like the on-prem container; 0 picks a free "
        "port)",
    )
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "--api-key-file",
        metavar="PATH",
        default=None,
        help="require the key in PATH (its first line): 'Authorization: Bearer KEY' or "
        f"'?jwt=KEY', HTTP 401 otherwise. Also read from {API_KEY_ENV}. Without a key, any "
        "credential, or none, is accepted",
    )
    keys.add_argument(
        "--api-key",
        metavar="KEY",
        default=None,
        help=f"the same, given on the command line, where other users can see it (ps): "
        f"prefer {API_KEY_ENV} or --api-key-file",
    )
    parser.add_argument(
        "--max-sessions",
        metavar="N",
        type=int,
        default=None,
        help="concurrent sessions allowed; more get Error quota_exceeded and close code 4005 "
        "(default: no limit)",
    )
    parser.add_argument(
        "--idle-timeout",
        metavar="S",
        type=_seconds,
        default=IDLE_TIMEOUT,
        help="end a session that sends no audio for S seconds (Warning, then Error "
        "idle_timeout; default: 3600, as the SaaS)",
    )
    parser.add_argument(
        "--max-session-length",
        metavar="S",
        type=_seconds,
        default=MAX_SESSION_LENGTH,
        help="end a session after S seconds (Warning, then Error session_timeout; "
        "default: 172800 = 48 h, as the SaaS)",
    )
    parser.add_argument(
        "--capacity",
        metavar="N",
        type=_count,
        default=None,
        help="recognizers allowed at once; more sessions get Error quota_exceeded (default: "
        "measured: as many as this machine decodes in real time)",
    )
    parser.add_argument(
        "--spare-workers",
        metavar="N",
        type=_count,
        default=None,
        help="recognizer processes kept loaded for new sessions, ~100 MB each (default: the "
        "capacity, so a burst of sessions is admitted at once)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host without a key (anyone who can reach it may use it)",
    )
    parser.add_argument(
        "--replay",
        metavar="PATH",
        default=None,
        help="serve a recorded session again instead of recognizing: an smnb output directory or "
        "messages.jsonl, or a recording in the SaaS line format (ts, audio_ts, payload); each "
        "recorded message goes out when the client's audio reaches the time it first arrived",
    )
    parser.add_argument(
        "--replay-audio",
        metavar="FILE",
        default=None,
        help="the audio the recording was made with, to check each client's audio against "
        "(default: the file the recording names, if it lies beside it)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; returns the exit code."""
    try:
        key = api_key(args, os.environ)
        asyncio.run(_serve(args, key))
    except ConfigError as exc:
        hint = ""
        if isinstance(exc.__cause__, OSError) and exc.__cause__.errno == errno.EADDRINUSE:
            hint = " (try --port 0)"  # the server picks a free port and prints it
        print(f"smnb serve: {exc}{hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def api_key(args: argparse.Namespace, environ: Mapping[str, str]) -> str | None:
    """The key the server requires: ``--api-key-file``, ``--api-key`` (with a warning on
    stderr) or :data:`API_KEY_ENV`; None for none.

    Raises:
        ConfigError: the key file cannot be read or holds no key, or the key is empty.
    """
    if args.api_key_file is not None:
        path = Path(args.api_key_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--api-key-file {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"--api-key-file {path}: not UTF-8 text") from exc
        key = (text.splitlines() or [""])[0].strip()
        if not key:
            raise ConfigError(f"--api-key-file {path}: the file holds no key")
        return key
    given: str | None = args.api_key
    if given is not None:
        print(
            "smnb serve: warning: --api-key is visible to every user of this machine (ps); "
            f"use {API_KEY_ENV} or --api-key-file",
            file=sys.stderr,
            flush=True,
        )
        if not given.strip():
            raise ConfigError("--api-key is empty")
        return given.strip()
    value = environ.get(API_KEY_ENV)
    if value is None:
        return None
    if not value.strip():
        raise ConfigError(f"{API_KEY_ENV} is set but empty")
    return value.strip()


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port number 0-65535, not {text!r}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


async def _serve(args: argparse.Namespace, key: str | None) -> None:
    from smnb.server.app import run as run_server
    from smnb.server.engine.pool import EnginePool

    replay = None
    if args.replay is not None:
        from smnb.server.replay import prepare_replay

        replay = prepare_replay(args.replay, args.replay_audio)
    elif args.replay_audio is not None:
        raise ConfigError("--replay-audio needs --replay")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    pool = EnginePool(capacity=args.capacity or "measure", queue_timeout=0)
    started = False

    def ready(url: str) -> None:
        nonlocal started
        started = True
        print(url, flush=True)
        if replay is not None:
            return  # a replay runs no recognizers
        spares = args.spare_workers
        if spares is None:  # the whole capacity (no more than --max-sessions could use)
            spares = min(pool.capacity, args.max_sessions or pool.capacity)
        pool.keep_spares(spares)
        print(f"smnb serve: capacity {pool.describe()}; more sessions get quota_exceeded; "
              f"{min(spares, pool.capacity)} recognizer(s) kept loaded", file=sys.stderr,
              flush=True)  # fmt: skip

    try:
        await run_server(
            args.host,
            args.port,
            api_key=key,
            max_sessions=args.max_sessions,
            allow_remote=args.allow_remote,
            ready=ready,
            stop=stop,
            replay=replay,
            engine_factory=None if replay is not None else (lambda: pool),
            idle_timeout=args.idle_timeout,
            max_session_length=args.max_session_length,
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if started:
            print("smnb serve: stopped", file=sys.stderr, flush=True)
