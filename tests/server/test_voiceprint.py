"""Speaker identifiers: what GetSpeakers issues decodes back; anything else is refused."""

from __future__ import annotations

import pytest

from smnb.server import voiceprint
from smnb.server.voiceprint import Voiceprint


def _flip(text: str, at: int) -> str:
    return text[:at] + ("B" if text[at] == "A" else "A") + text[at + 1 :]


PRINT = Voiceprint(
    812, tuple(float(i) / 4 for i in range(16)), tuple(4.6 + i / 50 for i in range(9))
)


def test_an_identifier_decodes_to_its_voiceprint() -> None:
    identifier = voiceprint.encode(PRINT)
    assert identifier.startswith(voiceprint.PREFIX) and identifier.isascii()
    back = voiceprint.decode(identifier)
    assert back.frames == 812
    assert back.cepstra == pytest.approx(PRINT.cepstra) and back.pitches == pytest.approx(
        PRINT.pitches
    )
    assert voiceprint.decode(voiceprint.encode(Voiceprint(3, (0.0,) * 16))).pitches == ()


@pytest.mark.parametrize(
    ("identifier", "why"),
    [
        ("smnb-voice-0", "not issued by this server"),
        ("<alice_id1>", "not issued by this server"),
        (voiceprint.PREFIX + "!!!", "base64"),
        (voiceprint.PREFIX + "AAAA", "checksum"),
        (voiceprint.encode(PRINT)[:-6], "base64|checksum|short"),
        (_flip(voiceprint.encode(PRINT), 30), "checksum"),
    ],
)
def test_foreign_or_damaged_identifiers_are_refused_with_a_reason(
    identifier: str, why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        voiceprint.decode(identifier)


def test_a_voiceprint_has_the_engine_shape() -> None:
    with pytest.raises(ValueError):
        voiceprint.encode(Voiceprint(10, (0.0,) * 12))
