"""``smnb serve``: run the local RT v2 server until Ctrl-C or SIGTERM.

Prints the URL on one line (flushed) as soon as connections are accepted, so a
script can read it; exits 0 on a clean stop.

Must not import the client session (:mod:`smnb.session`).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from smnb.cli.main import EXIT_OK
from smnb.exceptions import ConfigError


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
        help="address to listen on (default: 127.0.0.1); anything but loopback needs "
        "--api-key or --allow-remote",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=9000,
        help="TCP port to listen on (default: 9000, like the on-prem container; 0 picks a free "
        "port)",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=None,
        help="require 'Authorization: Bearer KEY' or '?jwt=KEY' (HTTP 401 otherwise); "
        "by default any credential, or none, is accepted",
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
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host without --api-key (anyone who can reach it may use it)",
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
    asyncio.run(_serve(args))
    return EXIT_OK


async def _serve(args: argparse.Namespace) -> None:
    from smnb.server.app import run as run_server

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

    started = False

    def ready(url: str) -> None:
        nonlocal started
        started = True
        print(url, flush=True)

    try:
        await run_server(
            args.host,
            args.port,
            api_key=args.api_key,
            max_sessions=args.max_sessions,
            allow_remote=args.allow_remote,
            ready=ready,
            stop=stop,
            replay=replay,
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if started:
            print("smnb serve: stopped", file=sys.stderr, flush=True)
