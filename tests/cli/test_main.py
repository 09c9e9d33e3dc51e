"""``smnb --help``, ``--version`` and every subcommand's help, as a user runs them."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from smnb import __version__
from smnb.cli.main import COMMANDS


def smnb_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smnb", *args], capture_output=True, text=True, timeout=120
    )


def test_version() -> None:
    out = smnb_cli("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"smnb {__version__}"


def test_top_level_help_lists_every_command() -> None:
    out = smnb_cli("--help")
    assert out.returncode == 0
    for command in COMMANDS:
        assert command in out.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_describes_its_options(command: str) -> None:
    out = smnb_cli(command, "--help")
    assert out.returncode == 0, out.stderr
    assert f"usage: smnb {command}" in out.stdout
    assert out.stdout.count("--") >= 3  # options are documented, not just a usage line


def test_no_command_prints_help_and_fails() -> None:
    out = smnb_cli()
    assert out.returncode == 2
    assert "usage: smnb" in out.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_verbose_is_accepted_before_and_after_every_command(command: str) -> None:
    from smnb.cli.main import build_parser

    parser = build_parser()
    rest = ["a.wav", "--out", "o"] if command == "sweep" else ["a.wav"] * (command != "serve")
    assert parser.parse_args([command, *rest]).verbose == 0
    assert parser.parse_args(["-vv", command, *rest]).verbose == 2
    assert parser.parse_args([command, *rest, "-vv"]).verbose == 2
    assert parser.parse_args([command, "--verbose", *rest]).verbose == 1


def test_the_help_formatter_prints_only_true_new_defaults() -> None:
    from smnb.cli.main import HelpFormatter

    parser = argparse.ArgumentParser(prog="x", formatter_class=HelpFormatter)
    parser.add_argument("--unset", help="not sent")
    parser.add_argument("--flag", action="store_true", help="a switch")
    parser.add_argument("--many", action="append", default=[], help="repeatable")
    parser.add_argument("--said", default=3, help="three (default: the third)")
    parser.add_argument("--zero", type=int, default=0, help="a seed")
    text = " ".join(parser.format_help().split())
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "(default: [])" not in text and text.count("(default:") == 2
    assert "three (default: the third)" in text and "a seed (default: 0)" in text
