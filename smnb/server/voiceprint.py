"""Speaker identifiers: the opaque strings ``SpeakersResult`` gives and ``speakers`` takes back.

A diarizing recognizer describes each speaker it has heard as a :class:`Voiceprint` (how
many speech frames it heard, their mean cepstra, quantiles of their log pitch), and
``GetSpeakers`` returns it as an identifier: :data:`PREFIX` followed by the voiceprint
packed little-endian, a CRC-32, all in URL-safe base64. A later session's
``speaker_diarization_config.speakers`` hands identifiers back; :func:`decode` rejects
anything this engine did not issue (another model's identifiers, a typo, a truncated
copy), as the service ignores identifiers of another model, so the protocol side can warn
(``Warning speaker_id``) before the engine starts.

Both sides use this module: the protocol side to check identifiers, the engine to build
and read them. Stdlib only.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
import zlib
from dataclasses import dataclass

PREFIX = "smnb-ps1."
"""Names the engine and feature version: identifiers are model-specific (as the service's)."""

CEPSTRA = 16
"""Mean cepstra per voiceprint (c1…c16 of the diarizer's features)."""

MAX_PITCHES = 9


@dataclass(frozen=True, slots=True)
class Voiceprint:
    """What a diarizer knows of one voice."""

    frames: int
    """Speech frames (10 ms each) the voice was heard for."""
    cepstra: tuple[float, ...]
    """Mean cepstra of those frames (:data:`CEPSTRA` values)."""
    pitches: tuple[float, ...] = ()
    """Deciles (10 %…90 %) of the voiced frames' log pitch; empty if too few were voiced."""


def encode(voiceprint: Voiceprint) -> str:
    """The identifier string of ``voiceprint``."""
    if len(voiceprint.cepstra) != CEPSTRA or len(voiceprint.pitches) > MAX_PITCHES:
        raise ValueError("a voiceprint has 16 cepstra and at most 9 pitch quantiles")
    body = struct.pack(
        f"<IB{CEPSTRA}fB{len(voiceprint.pitches)}f",
        max(0, min(voiceprint.frames, 2**32 - 1)),
        CEPSTRA,
        *voiceprint.cepstra,
        len(voiceprint.pitches),
        *voiceprint.pitches,
    )
    packed = body + struct.pack("<I", zlib.crc32(body))
    return PREFIX + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode(identifier: str) -> Voiceprint:
    """The voiceprint inside an identifier this engine issued.

    Raises:
        ValueError: saying why the identifier is not one of this engine's.
    """
    if not identifier.startswith(PREFIX):
        raise ValueError("it was not issued by this server's engine")
    text = identifier[len(PREFIX) :]
    try:
        packed = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("it is not valid base64") from exc
    body, crc = packed[:-4], packed[-4:]
    if len(crc) < 4 or struct.unpack("<I", crc)[0] != zlib.crc32(body):
        raise ValueError("it is damaged (checksum mismatch)")
    head = struct.calcsize(f"<IB{CEPSTRA}fB")
    if len(body) < head:
        raise ValueError("it is too short")
    frames, n_cepstra, *rest = struct.unpack(f"<IB{CEPSTRA}fB", body[:head])
    count = int(rest[-1])
    if n_cepstra != CEPSTRA or count > MAX_PITCHES or len(body) != head + 4 * count:
        raise ValueError("its layout is not this engine's")
    pitches = struct.unpack(f"<{count}f", body[head:])
    values = (*rest[:-1], *pitches)
    if not all(math.isfinite(v) for v in values):
        raise ValueError("it holds non-finite numbers")
    return Voiceprint(int(frames), tuple(rest[:-1]), tuple(pitches))
