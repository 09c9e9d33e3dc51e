"""The engine worker process: one recognizer at a time, served over a socket to the server.

:mod:`smnb.server.engine.process` starts every worker as ``python -m
smnb.server.engine.worker FD``: a fresh interpreter that imports smnb and whatever the
hooks name, and never the user's ``__main__``. So a plain script needs no ``if __name__
== "__main__":`` guard and its top-level code runs exactly once, on Linux and macOS alike.
``FD`` is the worker's end of a socket pair; messages are pickled tuples in
:mod:`multiprocessing.connection` framing.

The conversation: the server sends its import path (``sys.path``, so hooks defined in
the caller's modules unpickle here), then ``(factory, prewarm)``; the worker
prewarms and answers ``("ready", pid)``. After that every
command ``(name, argument)`` gets ``("ok", value)`` or ``("error", traceback)``:

* ``open`` (settings), ``feed`` (int16 bytes), ``force_end_of_utterance``, ``finish``,
  ``speakers``, ``reconfigure`` (``(max_delay, max_delay_mode)``): the recognizer's own calls;
* ``close``: ends the session; answers ``(CPU seconds, audio seconds, wall seconds)``, what the
  session cost, from which the pool learns the machine's real-time capacity;
* ``calibrate`` (a 16 kHz mono WAV path): CPU seconds per audio second on that file;
* ``exit``.

The worker never decides when it stops: the server does (``exit``, then terminate).
End of file on its socket means the server has gone, and the worker exits too.

The ``default_*`` hooks are what the pool uses unless told otherwise: pocketsphinx
recognizers and a prewarmed decoder; no engine state is carried between sessions.

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
import wave
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from smnb.server.recognizer import SAMPLE_RATE, Recognizer, RecognizerSettings

RecognizerFactory = Callable[[RecognizerSettings], Recognizer]
Prewarm = Callable[[], None]
Hooks = tuple[RecognizerFactory, "Prewarm | None"]
"""What a worker is started with. Nothing else travels: no session leaves state behind
that a new worker could need (issue 10), so every worker starts alike."""

CALIBRATION_FEED = SAMPLE_RATE // 10
"""Samples per feed while calibrating: the 0.1 s a live client typically sends."""


def default_factory(settings: RecognizerSettings) -> Recognizer:
    """A :class:`~smnb.server.pocketsphinx.recognizer.PocketsphinxRecognizer` (in the worker)."""
    from smnb.server.pocketsphinx.recognizer import PocketsphinxRecognizer

    return PocketsphinxRecognizer(settings)


def default_prewarm() -> None:
    """Load the worker's pocketsphinx decoder before any session needs it."""
    from smnb.server.pocketsphinx.decoder import prewarm

    prewarm()


class _Worker:
    """The worker's state: its hooks and the current session's recognizer."""

    def __init__(self, hooks: Hooks) -> None:
        self.factory, self.prewarm = hooks
        self.recognizer: Any = None
        self.cpu_at_open = 0.0
        self.wall_at_open = 0.0
        self.samples = 0
        self.commands: dict[str, Callable[[Any], object]] = {
            "open": self.open,
            "feed": self.feed,
            "force_end_of_utterance": lambda _: self.recognizer.force_end_of_utterance(),
            "finish": lambda _: self.recognizer.finish(),
            "speakers": lambda _: self.recognizer.speakers(),
            "reconfigure": lambda argument: self.recognizer.reconfigure(*argument),
            "close": self.close,
            "calibrate": self.calibrate,
        }

    def start(self) -> None:
        if self.prewarm is not None:
            self.prewarm()

    def open(self, settings: RecognizerSettings) -> None:
        self.recognizer = self.factory(settings)
        self.cpu_at_open, self.wall_at_open = time.process_time(), time.monotonic()
        self.samples = 0

    def feed(self, pcm: bytes) -> object:
        samples = np.frombuffer(pcm, dtype="<i2")
        self.samples += len(samples)
        return self.recognizer.feed(samples)

    def close(self, _: object) -> tuple[float, float, float]:
        close = getattr(self.recognizer, "close", None)
        self.recognizer = None
        if close is not None:
            close()
        cost = (
            time.process_time() - self.cpu_at_open,
            self.samples / SAMPLE_RATE,
            time.monotonic() - self.wall_at_open,
        )
        if self.prewarm is not None:
            self.prewarm()
        return cost

    def calibrate(self, path: str) -> float:
        """CPU seconds per audio second for a default session on ``path`` (16 kHz mono s16)."""
        with wave.open(path, "rb") as wav:
            if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (SAMPLE_RATE, 1, 2):
                raise ValueError(f"{path}: calibration audio must be 16 kHz mono 16-bit")
            audio = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        settings = RecognizerSettings(max_delay=2.0, max_delay_mode="fixed", enable_partials=True)
        started = time.process_time()
        recognizer = self.factory(settings)
        for i in range(0, len(audio), CALIBRATION_FEED):
            recognizer.feed(audio[i : i + CALIBRATION_FEED])
        recognizer.finish()
        return (time.process_time() - started) / (len(audio) / SAMPLE_RATE)


def serve(conn: Connection) -> None:
    """Answer the server's commands over ``conn`` until told to exit or it goes away."""
    # The server decides when a worker stops (exit, then terminate): an interrupt meant
    # for it (the worker runs in a session of its own, so only a stray one) is ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        # The server's import path first: the hooks may live in the caller's own modules.
        server_path: list[str] = conn.recv()
        sys.path[:] = [*server_path, *(p for p in sys.path if p not in server_path)]
        try:
            worker = _Worker(conn.recv())
            worker.start()
        except Exception:
            conn.send(("error", traceback.format_exc()))
            return
        conn.send(("ready", os.getpid()))
        while True:
            command, argument = conn.recv()
            if command == "exit":
                return
            handler = worker.commands.get(command)
            try:
                if handler is None:
                    raise ValueError(f"unknown command {command!r}")
                value = handler(argument)
            except Exception:  # report it; the server decides what happens next
                conn.send(("error", traceback.format_exc()))
            else:
                conn.send(("ok", value))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return  # the server has gone


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m smnb.server.engine.worker FD``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        sys.exit("usage: python -m smnb.server.engine.worker FD (started by the engine pool)")
    conn = Connection(int(args[0]))
    try:
        serve(conn)
    finally:
        conn.close()


if __name__ == "__main__":
    # Run the module under its own name, so the hooks pickled as
    # ``smnb.server.engine.worker.default_*`` resolve to the same module as this code.
    from smnb.server.engine import worker as _module

    _module.main()
