"""The worker-process side of the engine pool: one recognizer at a time, over a pipe.

:func:`worker_main` is the target of every engine worker process started by
:mod:`smnb.server.engine.pool`. It answers ``open``, ``feed``, ``force_end_of_utterance``,
``finish``, ``speakers``, ``close`` and ``exit`` commands with ``("ok", value)`` or
``("error", traceback)``, and never decides when it stops: the parent does.

The ``default_*`` hooks are what the pool uses unless told otherwise: pocketsphinx
recognizers and a prewarmed decoder; no engine state is carried between sessions.

Must not import: asyncio, websockets, pandas, anything from ``smnb.client``.
"""

from __future__ import annotations

import os
import signal
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from smnb.server.recognizer import Recognizer, RecognizerSettings

RecognizerFactory = Callable[[RecognizerSettings], Recognizer]
Prewarm = Callable[[], None]
ExportState = Callable[[], "str | None"]
"""Called in a worker after each session: what the next new worker should start from."""
ImportState = Callable[["str | None"], None]
"""Called in a new worker, before ``prewarm``, with the latest exported state."""


def default_factory(settings: RecognizerSettings) -> Recognizer:
    """A :class:`~smnb.server.pocketsphinx.recognizer.PocketsphinxRecognizer` (in the worker)."""
    from smnb.server.pocketsphinx.recognizer import PocketsphinxRecognizer

    return PocketsphinxRecognizer(settings)


def default_prewarm() -> None:
    """Load the worker's pocketsphinx decoder before any session needs it."""
    from smnb.server.pocketsphinx.decoder import prewarm

    prewarm()


def default_export_state() -> str | None:
    """Nothing: a pocketsphinx session leaves no state for the next one (issue 10)."""
    return None


def default_import_state(state: str | None) -> None:
    """Nothing to import: every session starts from the same engine state."""


def worker_main(
    conn: Connection,
    factory: RecognizerFactory,
    prewarm: Prewarm | None,
    state: tuple[ExportState, ImportState, str | None] | None,
) -> None:
    """The worker process: serve one recognizer at a time, forever, over ``conn``."""
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when a
    # worker stops (exit command, then terminate), so the worker ignores it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    recognizer: Any = None

    def reply(kind: str, value: object = None) -> None:
        conn.send((kind, value))

    try:
        if state is not None:
            state[1](state[2])
        if prewarm is not None:
            prewarm()
        reply("ready", os.getpid())
        while True:
            try:
                command, argument = conn.recv()
            except EOFError:
                return
            try:
                if command == "open":
                    recognizer = factory(argument)
                    reply("ok")
                elif command == "feed":
                    reply("ok", recognizer.feed(np.frombuffer(argument, dtype="<i2")))
                elif command == "force_end_of_utterance":
                    reply("ok", recognizer.force_end_of_utterance())
                elif command == "finish":
                    reply("ok", recognizer.finish())
                elif command == "speakers":
                    reply("ok", recognizer.speakers())
                elif command == "close":
                    close = getattr(recognizer, "close", None)
                    recognizer = None
                    if close is not None:
                        close()
                    if prewarm is not None:
                        prewarm()
                    reply("ok", None if state is None else state[0]())
                elif command == "exit":
                    return
                else:
                    reply("error", f"unknown command {command!r}")
            except Exception:  # report it; the parent decides what happens next
                reply("error", traceback.format_exc())
    except (BrokenPipeError, EOFError):
        return
