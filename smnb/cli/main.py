"""The ``smnb`` command: ``transcribe``, ``serve`` and ``sweep``.

Each subcommand lives in its own module of :mod:`smnb.cli` and provides
``register(subparsers)``, which adds its parser and sets ``func`` to a
``run(args) -> int``. Errors smnb raises on purpose are printed as one line
(never a traceback) and give a non-zero exit code; the codes are defined here once.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from smnb._version import __version__
from smnb.exceptions import AudioError, ConfigError, SmnbError
from smnb.recorder.sanitize import RedactingFormatter

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"

COMMANDS = ("transcribe", "serve", "sweep")

EXIT_OK = 0
"""Everything asked for was done."""
EXIT_FAILED = 1
"""A session failed (server error, lost connection, timeout, rejected key)."""
EXIT_BAD_INPUT = 2
"""Bad input (file, settings, arguments): nothing was sent."""
EXIT_INTERRUPTED = 130
"""Ctrl-C (128 + SIGINT)."""
EXIT_BROKEN_PIPE = 141
"""stdout's reader went away (128 + SIGPIPE, e.g. ``| head -1``): printing stopped quietly."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends ``(default: X)`` only when it is true and new.

    Not for an option that is unset by default (None, False, []: the help says what
    happens instead), nor when the help already names its default.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if "default" in text or default is None or default is False or default == []:
            return text
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="smnb",
        description=(
            "Stream audio to a Speechmatics Real-Time (RT v2) endpoint, record every message, "
            "and analyse latency and accuracy. With no API key everything runs against smnb's "
            "own local RT v2 server and offline recognizer."
        ),
    )
    parser.add_argument("--version", action="version", version=f"smnb {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"smnb.cli.{name}")
        module.register(subparsers)
    for sub in subparsers.choices.values():  # `smnb serve -vv` as well as `smnb -vv serve`
        add_verbose(sub)
    return parser


def add_verbose(parser: argparse.ArgumentParser) -> None:
    """``-v/--verbose`` after a subcommand too (given there, it replaces the one before)."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,  # not given: the top-level count stands
        help="log more on stderr (-v info, -vv debug); credentials are always redacted",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(LOG_FORMAT))  # every line scrubbed, tracebacks too
    logging.basicConfig(level=level, handlers=[handler])
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("smnb: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ConfigError, AudioError) as exc:
        print(f"smnb: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SmnbError as exc:
        print(f"smnb: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # like a Unix tool killed by SIGPIPE, without the noise
        silence_stdout()
        return EXIT_BROKEN_PIPE
    return code


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone (a closed pipe).

    What is still buffered then goes nowhere, so the interpreter's last flush raises
    no second BrokenPipeError at exit.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is no file (captured by a test): nothing to do
        pass


if __name__ == "__main__":
    sys.exit(main())
