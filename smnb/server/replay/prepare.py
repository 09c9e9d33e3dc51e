"""What a replay server needs, loaded once: the recording and its reference audio.

``smnb.server.serve(replay=...)`` takes a path or a :class:`Replay`;
:func:`prepare_replay` turns a path into one, failing before the server
listens if the recording cannot be replayed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from os import PathLike

from smnb.server.replay.recording import Recording, load_recording
from smnb.server.replay.reference import ReferenceAudio, reference_for

log = logging.getLogger("smnb.server.replay")


@dataclass(frozen=True, slots=True)
class Replay:
    """A recording to serve and, if known, the audio it was made with."""

    recording: Recording
    reference: ReferenceAudio | None = None


ReplaySpec = str | PathLike[str] | Replay
"""What ``serve(replay=...)`` accepts."""


def prepare_replay(spec: ReplaySpec, audio: str | PathLike[str] | None = None) -> Replay:
    """A :class:`Replay` from a recording's path (and optionally its audio file).

    Raises:
        ConfigError: the recording or the audio cannot be used.
    """
    if isinstance(spec, Replay):
        return spec
    recording = load_recording(spec)
    replay = Replay(recording, reference_for(recording, audio))
    ref = replay.reference
    log.info(
        "replaying %s: %d timed messages%s",
        recording.name,
        len(recording.timed),
        f", reference audio {ref.path.name} ({ref.seconds:.2f} s, sha256 {ref.sha256[:12]})"
        if ref is not None
        else "",
    )
    return replay
