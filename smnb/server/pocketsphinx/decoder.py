"""The loaded pocketsphinx decoder: its configuration and the per-process cache.

A decoder takes ≈0.5 s to load and holds ~100 MB, so each process keeps one clean
decoder and hands it to one recognizer at a time. Nothing of one session reaches the next
through it (see :class:`DecoderCache`).

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import threading
from typing import Any

from pocketsphinx import Decoder

from smnb.server.pocketsphinx.cmn import meter

DECODER_CONFIG: dict[str, Any] = {
    "maxhmmpf": 3000,
    "maxwpf": 5,
    "fwdflat": False,
    "bestpath": True,
    "loglevel": "FATAL",
}
"""engine-feasibility §0: fast first pass + bestpath (CPU RTF ≈0.12, posteriors at unit end)."""


class DecoderCache:
    """One clean, loaded decoder per process, handed to one recognizer at a time.

    It carries nothing from one session to the next that could change words: every unit
    of every session starts with ``reinit_feat`` and a cepstral mean measured on that
    session's own audio (:mod:`~smnb.server.pocketsphinx.unit`). A decoder that
    ``additional_vocab`` changed is dirty and never handed out again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: Any = None

    def take(self) -> Any:
        with self._lock:
            decoder, self._idle = self._idle, None
        return decoder if decoder is not None else new_decoder()

    def give_back(self, decoder: Any, *, dirty: bool) -> None:
        with self._lock:
            if not dirty and self._idle is None:
                self._idle = decoder

    def prewarm(self) -> None:
        with self._lock:
            if self._idle is not None:
                return
        decoder = new_decoder()
        with self._lock:
            if self._idle is None:
                self._idle = decoder


CACHE = DecoderCache()


def prewarm() -> None:
    """Load this process's decoder (and CMN meter) now, so the next recognizer starts at once."""
    CACHE.prewarm()
    meter()


def new_decoder() -> Any:
    """A freshly loaded decoder with the recommended configuration."""
    return Decoder(**DECODER_CONFIG)
