"""``smnb transcribe``: stream one audio file and print its final transcript.

stdout carries only the transcript (or, with ``--print-json``, every received
message as one JSON line as it arrives), so it can be piped; progress goes to
stderr. With ``--out DIR`` the session log is written to ``messages.jsonl`` as
it happens and the tables and ``summary.json`` at the end, on failure too.

Exit codes: 0 done, 1 the session failed (server error, lost connection,
timeout, rejected key), 2 bad input (file, settings), 130 interrupted, 141
stdout closed by its reader (``| head``: printing stops at once, quietly, and the
session still runs to its end so ``--out`` is complete). Errors are one line on
stderr, never a traceback.

Must not import pandas at module level (``smnb --help`` stays quick).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any, TextIO

from smnb.cli.main import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    HelpFormatter,
    silence_stdout,
)
from smnb.exceptions import AudioError, ConfigError, SessionCancelled, SmnbError
from smnb.protocol.config import DIARIZATION_MODES, MAX_DELAY_MODES, MODELS
from smnb.protocol.text import announced_delimiter, join, tokens_of
from smnb.recorder import RECEIVED, Record
from smnb.recorder.sanitize import one_line


def register(subparsers: Any) -> None:
    """Add the ``transcribe`` subcommand to the top-level parser."""
    parser = subparsers.add_parser(
        "transcribe",
        help="stream an audio file to an RT v2 endpoint and print the transcript",
        description=(
            "Stream AUDIO to a Speechmatics Real-Time (RT v2) endpoint and print the final "
            "transcript on stdout. The endpoint is --url, else SPEECHMATICS_RT_URL (with or "
            "without a key), else wss://eu2.rt.speechmatics.com/v2 with SPEECHMATICS_API_KEY; "
            "with none of them smnb starts its own local server (offline recognizer) for the "
            "run. The key is read from SPEECHMATICS_API_KEY (never from the command line, where "
            "other users could see it)."
        ),
        epilog=(
            "exit codes: 0 done, 1 session failed, 2 bad input, 130 interrupted, "
            "141 stdout closed (e.g. | head). "
            "example: smnb transcribe talk.mp3 --pace fast --max-delay 1.5 --out results/"
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("audio", metavar="AUDIO", help="audio file (WAV, FLAC, OGG, MP3, M4A, …)")
    where = parser.add_argument_group("endpoint")
    where.add_argument("--url", help="ws:// or wss:// RT v2 endpoint (default: see above)")
    where.add_argument(
        "--temp-key",
        metavar="TTL",
        nargs="?",
        type=int,
        const=60,
        default=None,
        help="exchange the API key for a temporary key valid TTL seconds (default 60) at "
        "SM_MANAGEMENT_PLATFORM_URL (https://mp.speechmatics.com) and send that instead",
    )
    where.add_argument(
        "--timeout",
        metavar="S",
        type=float,
        default=60.0,
        help="fail if the server sends nothing for S seconds while it owes a reply (0: no timeout)",
    )
    where.add_argument(
        "--no-reconnect",
        action="store_true",
        help="end the session when the connection drops (default: reconnect up to 5 times, "
        "re-send the audio no final covered yet, and keep one audio clock)",
    )
    config = parser.add_argument_group("transcription_config")
    config.add_argument("--language", default="en", help="language code")
    config.add_argument(
        "--max-delay",
        metavar="S",
        type=float,
        help="max_delay, 0.7–4 s (default: not sent, so the server's: 4)",
    )
    config.add_argument(
        "--max-delay-mode",
        choices=MAX_DELAY_MODES,
        help="max_delay_mode (default: not sent, so the server's: flexible)",
    )
    config.add_argument(
        "--no-partials", action="store_true", help="do not request partial transcripts"
    )
    config.add_argument(
        "--diarization",
        choices=DIARIZATION_MODES,
        help="speaker or channel diarization (channel modes send each channel of the file "
        "separately)",
    )
    config.add_argument("--channel-labels", metavar="A,B", help="labels of the file's channels")
    config.add_argument("--max-speakers", metavar="N", type=int, help="speaker diarization limit")
    config.add_argument("--model", choices=MODELS, help="model")
    config.add_argument(
        "--eou-silence",
        metavar="S",
        type=float,
        help="end_of_utterance_silence_trigger (0–2 s; EndOfUtterance messages)",
    )
    config.add_argument(
        "--config",
        metavar="JSON_FILE",
        help="a transcription_config JSON object; the flags above override its fields",
    )
    audio = parser.add_argument_group("audio")
    audio.add_argument(
        "--pace",
        choices=["realtime", "fast"],
        default="realtime",
        help="realtime sends like a live microphone (latency is meaningful); fast sends as "
        "quickly as the server acknowledges",
    )
    audio.add_argument(
        "--chunk-seconds", metavar="S", type=float, default=0.1, help="audio per frame"
    )
    audio.add_argument(
        "--audio-format",
        choices=["raw", "file"],
        default="raw",
        help="raw decodes to 16 kHz pcm_s16le; file sends the file's bytes unchanged",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--out",
        metavar="DIR",
        help="write messages.jsonl (as messages arrive), words.csv, partials.csv, … and "
        "summary.json to DIR",
    )
    output.add_argument(
        "--print-json",
        action="store_true",
        help="print every received message as one JSON line on stdout instead of the text",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code (errors are printed, never raised)."""
    # These load pandas: only when running.
    from smnb.session.options import SessionOptions
    from smnb.session.run import prepare, run_blocking

    try:
        session = prepare(args.audio, SessionOptions.create(_config(args)))
    except (ConfigError, AudioError) as exc:
        return _fail(exc, EXIT_BAD_INPUT)
    except SmnbError as exc:
        return _fail(exc, EXIT_FAILED)
    live = _LiveLine(sys.stderr) if sys.stderr.isatty() and not args.print_json else None
    printer = _JsonPrinter(sys.stdout) if args.print_json else None
    if printer is not None:
        session.recorder.subscribe(printer)
    elif live is not None:
        session.recorder.subscribe(live)
    code = EXIT_OK
    result: Any = None
    try:
        result = run_blocking(session)
    except SessionCancelled as exc:
        result, code = exc.result, _fail(exc, EXIT_INTERRUPTED)
    except KeyboardInterrupt:  # a second Ctrl-C while finishing up
        return _fail("interrupted", EXIT_INTERRUPTED)
    except (ConfigError, AudioError) as exc:
        result, code = getattr(exc, "result", None), _fail(exc, EXIT_BAD_INPUT)
    except SmnbError as exc:
        result, code = getattr(exc, "result", None), _fail(exc, EXIT_FAILED)
    if live is not None:
        live.clear()
    if result is not None and not args.print_json:
        text = result.text
        if text or code == EXIT_OK:
            try:
                print(text, flush=True)
            except BrokenPipeError:
                silence_stdout()
                code = EXIT_BROKEN_PIPE if code == EXIT_OK else code
    if printer is not None and printer.broken:
        silence_stdout()
        code = EXIT_BROKEN_PIPE if code == EXIT_OK else code
    if result is not None:
        for problem in result.problems:  # survived: reported, never the outcome
            print(f"smnb transcribe: warning: {one_line(problem['message'])}", file=sys.stderr)
    if args.out and code not in (EXIT_OK, EXIT_BROKEN_PIPE):  # a failure, not a closed pipe
        print(f"smnb transcribe: what was received is in {args.out}", file=sys.stderr)
    return code


def _config(args: argparse.Namespace) -> dict[str, Any]:
    config: dict[str, Any] = _config_file(args.config) if args.config else {}
    flags = {
        "language": args.language,
        "max_delay": args.max_delay,
        "max_delay_mode": args.max_delay_mode,
        "diarization": args.diarization,
        "model": args.model,
    }
    config.update({k: v for k, v in flags.items() if v is not None})
    if args.no_partials:
        config["enable_partials"] = False
    if args.channel_labels:
        config["channel_diarization_labels"] = [s.strip() for s in args.channel_labels.split(",")]
    if args.max_speakers is not None:
        sub = dict(config.get("speaker_diarization_config") or {})
        config["speaker_diarization_config"] = {**sub, "max_speakers": args.max_speakers}
    if args.eou_silence is not None:
        sub = dict(config.get("conversation_config") or {})
        config["conversation_config"] = {
            **sub,
            "end_of_utterance_silence_trigger": args.eou_silence,
        }
    config.update(
        url=args.url,
        temp_key=args.temp_key,
        timeout=args.timeout or None,  # 0: no timeout
        reconnect=not args.no_reconnect,
        pace=args.pace,
        chunk_seconds=args.chunk_seconds,
        audio_format=args.audio_format,
        out=args.out,
    )
    return config


def _config_file(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"--config {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"--config {path}: not valid JSON ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("transcription_config"), dict):
        data = data["transcription_config"]  # a whole StartRecognition-like file
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path}: expected a JSON object")
    return data


def _fail(error: BaseException | str, code: int) -> int:
    # One line whatever the error holds (server text, a log read back from disk).
    message = "interrupted" if isinstance(error, SessionCancelled) else one_line(error, limit=1000)
    print(f"smnb transcribe: {message}", file=sys.stderr, flush=True)
    return code


class _JsonPrinter:
    """Prints each received message as one JSON line, as it arrives.

    Once the stream's reader has gone (a closed pipe) it prints nothing more, quietly:
    the session and its recording carry on.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.broken = False

    def __call__(self, record: Record) -> None:
        if self.broken or record.direction != RECEIVED or record.payload is None:
            return
        try:
            self.stream.write(json.dumps(record.payload, ensure_ascii=False) + "\n")
            self.stream.flush()
        except BrokenPipeError:
            self.broken = True


class _LiveLine:
    """The running transcript (finals + current partial) on one stderr line.

    Rendered from the result tokens with :mod:`smnb.protocol.text`, like the tables,
    the live widget and the local server.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.finals: list[Any] = []  # the newest final tokens (enough to fill the line)
        self.delimiter = " "  # until RecognitionStarted says otherwise
        self.width = max(20, shutil.get_terminal_size().columns - 1)

    def __call__(self, record: Record) -> None:
        if record.direction != RECEIVED or record.payload is None:
            return
        kind = record.type
        if kind == "RecognitionStarted":
            announced = announced_delimiter(record.payload)
            self.delimiter = self.delimiter if announced is None else announced
        if kind not in ("AddTranscript", "AddPartialTranscript"):
            return
        tokens = tokens_of(record.payload)
        partial = []
        if kind == "AddTranscript":
            self.finals = (self.finals + tokens)[-self.width :]
        else:
            partial = tokens
        line = join(self.finals + partial, self.delimiter)[-self.width :]
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()
