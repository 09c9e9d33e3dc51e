"""``smnb sweep``: run every (file × setting × repeat) session and write the analysis.

::

    smnb sweep a.wav b.wav --max-delay 0.7 1 2 4 --repeats 3 --out runs/max-delay
    smnb sweep a.wav --max-delay 1 2 --set max_delay_mode=fixed,flexible --out runs/grid

Writes ``summary.csv``, ``latency.csv``, ``sessions.csv``, the plots (PNG), the
manifest and every session's ``messages.jsonl`` to ``--out``; prints the summary.
References default to ``<audio>.txt`` / ``<audio>.words.json`` beside each file.

Exit codes: 0 every session completed, 1 at least one session failed (everything is
still written, failures included), 2 bad input, 130 interrupted.

Must not import pandas at module level (``smnb --help`` stays quick).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

from smnb.cli.main import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, HelpFormatter

SUMMARY_COLUMNS = (
    "n_sessions", "n_failed", "n_words", "final_p50", "final_p90", "final_p95",
    "partial_p50", "violation_rate", "wer", "wer_ci_low", "wer_ci_high",
)  # fmt: skip
LATENCY_COLUMNS = frozenset(
    {"final_p50", "final_p90", "final_p95", "partial_p50", "violation_rate"}
)
"""Columns that mean nothing at ``--pace fast`` (the audio went faster than real time)."""


def register(subparsers: Any) -> None:
    """Add the ``sweep`` subcommand to the top-level parser."""
    parser = subparsers.add_parser(
        "sweep",
        help="measure latency and accuracy across max_delay (or any setting) values",
        description=(
            "Stream every AUDIO file once per setting and repeat, at real-time pace, a few "
            "sessions at a time in a seeded interleaved order; then compute per-word latency, "
            "WER and stability and write tables, plots and a manifest to --out. Without --url, "
            "SPEECHMATICS_RT_URL and SPEECHMATICS_API_KEY one local server (offline "
            "recognizer) serves the sweep. The key is read from SPEECHMATICS_API_KEY, never "
            "from the command line."
        ),
        epilog=(
            "exit codes: 0 all sessions completed, 1 some failed (still written), 2 bad input, "
            "130 interrupted. example: smnb sweep a.wav b.wav --max-delay 0.7 1 2 4 --out runs/md"
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("audio", metavar="AUDIO", nargs="+", help="audio files")
    grid = parser.add_argument_group("settings")
    grid.add_argument(
        "--max-delay", metavar="S", type=float, nargs="+", help="max_delay values to sweep"
    )
    grid.add_argument(
        "--set",
        metavar="FIELD=V1,V2",
        action="append",
        default=[],
        help="sweep any transcription_config field too (repeatable; values form a grid; "
        "a field may come from one of --max-delay, --set and --config only)",
    )
    grid.add_argument(
        "--config",
        metavar="FIELD=VALUE",
        action="append",
        default=[],
        help="fix a transcription_config field for every session (VALUE may be JSON)",
    )
    refs = parser.add_argument_group("references")
    refs.add_argument(
        "--reference", metavar="TXT", nargs="+", help="reference transcripts, one per AUDIO"
    )
    refs.add_argument(
        "--word-timings", metavar="JSON", nargs="+", help="word timing files, one per AUDIO"
    )
    refs.add_argument("--no-reference", action="store_true", help="ignore references: no WER")
    run_group = parser.add_argument_group("run")
    run_group.add_argument("--repeats", metavar="N", type=int, default=1, help="sessions each")
    run_group.add_argument(
        "--concurrency", metavar="N", type=int, default=3, help="sessions at once"
    )
    run_group.add_argument("--seed", type=int, default=0, help="run-order seed")
    run_group.add_argument("--bootstrap-seed", type=int, default=0, help="confidence-interval seed")
    run_group.add_argument("--url", help="ws:// or wss:// RT v2 endpoint (default: see above)")
    run_group.add_argument(
        "--pace", choices=["realtime", "fast"], default="realtime", help="audio pacing"
    )
    run_group.add_argument(
        "--no-warmup",
        action="store_true",
        help="skip the untimed warm-up sessions (one per concurrent slot)",
    )
    run_group.add_argument("--no-progress", action="store_true", help="no progress bar")
    run_group.add_argument(
        "--reuse",
        action="store_true",
        help="--out may hold an earlier sweep: read it back when it is exactly this plan, "
        "else measure afresh, replacing it (without --reuse such a directory is refused)",
    )
    parser.add_argument("--out", metavar="DIR", required=True, help="output directory")
    parser.set_defaults(func=run)


def parse_value(text: str) -> Any:
    """A command-line value: JSON when it parses (numbers, booleans, objects), else a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(items: list[str], *, many: bool) -> list[tuple[str, Any]]:
    out = []
    for item in items:
        field, sep, raw = item.partition("=")
        if not sep or not field:
            raise ValueError(f"expected FIELD=VALUE, got {item!r}")
        if many:
            out.append((field, [parse_value(v) for v in raw.split(",") if v != ""]))
        else:
            out.append((field, parse_value(raw)))
    return out


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    """The transcription_config fields of ``--config``, ``--set`` and ``--max-delay``.

    Raises:
        ConfigError: a field given twice (one value would be silently dropped), or a name
            that is not a transcription_config field.
        ValueError: an item that is not FIELD=VALUE.
    """
    from smnb.exceptions import ConfigError
    from smnb.protocol.config import TRANSCRIPTION_FIELDS

    given: list[tuple[str, Any, str]] = [
        *((f, v, "--config") for f, v in _pairs(args.config, many=False)),
        *((f, v, "--set") for f, v in _pairs(args.set, many=True)),
    ]
    if args.max_delay:
        given.append(("max_delay", list(args.max_delay), "--max-delay"))
    fields: dict[str, Any] = {}
    flags: dict[str, str] = {}
    for field, value, flag in given:
        if field not in TRANSCRIPTION_FIELDS:
            close = difflib.get_close_matches(field, sorted(TRANSCRIPTION_FIELDS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{flag} {field}: not a transcription_config field{hint}")
        if field in fields:
            raise ConfigError(f"{field} is given twice: {flags[field]} and {flag}")
        fields[field], flags[field] = value, flag
    return fields


def run(args: argparse.Namespace) -> int:
    """Run the sweep; returns the exit code (errors are printed, never raised)."""
    from smnb.exceptions import AudioError, ConfigError
    from smnb.experiment.runner import sweep

    try:
        fields = _fields(args)
    except (ValueError, ConfigError) as exc:
        print(f"smnb sweep: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    references: Any = False if args.no_reference else args.reference
    try:
        result = sweep(
            args.audio,
            references=references,
            word_timings=args.word_timings,
            repeats=args.repeats,
            concurrency=args.concurrency,
            seed=args.seed,
            bootstrap_seed=args.bootstrap_seed,
            out=args.out,
            url=args.url,
            pace=args.pace,
            warmup=not args.no_warmup,
            progress=not args.no_progress,
            reuse=args.reuse,
            **fields,
        )
    except (ConfigError, AudioError) as exc:
        print(f"smnb sweep: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    summary = result.summary
    shown = [c for c in SUMMARY_COLUMNS if c in summary]
    if args.pace == "fast":  # never print latencies that mean nothing (they may be negative)
        shown = [c for c in shown if c not in LATENCY_COLUMNS]
        print(
            "smnb sweep: latency is not meaningful at --pace fast (audio sent faster than "
            "real time); its columns are left out",
            file=sys.stderr,
        )
    columns = [*result.by, *shown]
    print(summary[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nwritten to {Path(args.out)}", file=sys.stderr)
    failed = int(summary["n_failed"].sum()) if len(summary) else 0
    if failed:
        print(f"smnb sweep: {failed} session(s) failed; see sessions.csv", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
