"""The loaded pocketsphinx decoder: its configuration, the per-process cache, the carried CMN.

A decoder takes ≈0.5 s to load and holds ~100 MB, so each process keeps one clean
decoder and hands it to one recognizer at a time. Its live cepstral mean (CMN) is carried
to the next decoder: a fresh decoder normalises its first utterance with a generic prior
and garbles it.

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import threading
from typing import Any

from pocketsphinx import Decoder

DECODER_CONFIG: dict[str, Any] = {
    "maxhmmpf": 3000,
    "maxwpf": 5,
    "fwdflat": False,
    "bestpath": True,
    "loglevel": "FATAL",
}
"""engine-feasibility §0: fast first pass + bestpath (CPU RTF ≈0.12, posteriors at unit end)."""


class DecoderCache:
    """One clean, loaded decoder per process, handed to one recognizer at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: Any = None
        self._cmn: str | None = None

    def take(self) -> Any:
        with self._lock:
            decoder, self._idle = self._idle, None
        return decoder if decoder is not None else self._load()

    def give_back(self, decoder: Any, *, dirty: bool) -> None:
        cmn = decoder.get_cmn()
        with self._lock:
            self._cmn = cmn
            if not dirty and self._idle is None:
                self._idle = decoder

    def prewarm(self) -> None:
        with self._lock:
            if self._idle is not None:
                return
        decoder = self._load()
        with self._lock:
            if self._idle is None:
                self._idle = decoder

    def carried_cmn(self) -> str | None:
        with self._lock:
            return self._cmn

    def carry_cmn(self, cmn: str) -> None:
        """Adopt a cepstral mean learnt elsewhere (another worker), unless one is known here."""
        with self._lock:
            if self._cmn is not None:
                return
            self._cmn = cmn
            idle = self._idle
        if idle is not None:
            idle.set_cmn(cmn)

    def _load(self) -> Any:
        decoder = Decoder(**DECODER_CONFIG)
        with self._lock:
            cmn = self._cmn
        if cmn is not None:
            decoder.set_cmn(cmn)
        return decoder


CACHE = DecoderCache()


def prewarm() -> None:
    """Load this process's decoder now, so the next recognizer starts at once."""
    CACHE.prewarm()


def carried_cmn() -> str | None:
    """The cepstral mean left by this process's last session (None before any)."""
    return CACHE.carried_cmn()


def carry_cmn(cmn: str | None) -> None:
    """Start this process's decoders from ``cmn`` (e.g. from another worker's session)."""
    if cmn:
        CACHE.carry_cmn(cmn)


def new_decoder() -> Any:
    """A freshly loaded decoder with the recommended configuration (cold CMN)."""
    return Decoder(**DECODER_CONFIG)
