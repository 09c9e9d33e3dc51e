"""Session limits as the Speechmatics SaaS documents them, as a clock with no I/O.

The service ends a session (docs ``speech-to-text/realtime/limits.mdx``; spec
``WarningTypeEnum`` / ``ErrorTypeEnum``) when

* no audio (``AddAudio``) has come for 1 hour: ``Warning idle_timeout`` 15, 10 and 5
  minutes before, then ``Error idle_timeout`` and close 1008;
* neither audio nor a ping/pong has come for 3 minutes: the same ``Error``;
* the session has lasted 48 hours: ``Warning session_timeout`` 45, 30 and 15 minutes
  before, then ``Error session_timeout`` and close 1008.

:class:`Limits` holds the three durations (``smnb serve --idle-timeout --max-session-length``
shorten them); :class:`LimitClock` tracks one connection against them. Warnings go at the
documented offsets that fit inside the limit; a limit too short for any of them (5 minutes
or less) gets one Warning halfway, so a Warning always comes first. The reasons follow the
spec's templates, in minutes, or in seconds below a minute.

Times are monotonic seconds supplied by the caller. Stdlib and :mod:`smnb.protocol` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smnb.protocol.messages import ErrorType, Message, ServerMessage

IDLE_WARNINGS = (900.0, 600.0, 300.0)
"""Seconds before the idle timeout at which the service warns."""

SESSION_WARNINGS = (2700.0, 1800.0, 900.0)
"""Seconds before the maximum session length at which the service warns."""

IDLE_TIMEOUT = 3600.0
"""Seconds without audio before the service ends a session."""

NO_TRAFFIC_TIMEOUT = 180.0
"""Seconds without audio, messages or pongs before the service ends a session."""

MAX_SESSION_LENGTH = 48 * 3600.0
"""Seconds a session may last."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a session may go without audio, without any traffic, and in all (seconds)."""

    idle_timeout: float = IDLE_TIMEOUT
    no_traffic_timeout: float = NO_TRAFFIC_TIMEOUT
    max_session_length: float = MAX_SESSION_LENGTH

    def __post_init__(self) -> None:
        for name in ("idle_timeout", "no_traffic_timeout", "max_session_length"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")


def warning_offsets(limit: float, documented: tuple[float, ...]) -> tuple[float, ...]:
    """Seconds before ``limit`` to warn at: the documented ones that fit, else halfway."""
    fitting = tuple(offset for offset in documented if offset < limit)
    return fitting or (limit / 2,)


def duration(seconds: float) -> str:
    """``15m`` for whole minutes, else ``2.5s`` (the spec's templates use minutes)."""
    minutes = seconds / 60
    if seconds >= 60 and abs(minutes - round(minutes)) < 1e-6:
        return f"{round(minutes)}m"
    return f"{seconds:.3g}s"


@dataclass(frozen=True, slots=True)
class Expired:
    """A limit was reached: send ``Error`` of ``error_type`` with ``reason``, close 1008."""

    error_type: str
    reason: str


@dataclass(slots=True)
class LimitClock:
    """One connection's standing against :class:`Limits`; see the module docstring."""

    limits: Limits
    opened: float
    last_audio: float = field(init=False)
    last_traffic: float = field(init=False)
    audio_expected: bool = True
    """False once the stream has ended (``EndOfStream``): no audio is due any more."""
    _idle_warned: set[float] = field(init=False, default_factory=set)
    _session_warned: set[float] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self.last_audio = self.last_traffic = self.opened

    def traffic(self, now: float) -> None:
        """Any frame, or a pong, arrived."""
        self.last_traffic = max(self.last_traffic, now)

    def audio(self, now: float) -> None:
        """Audio arrived (``AddAudio`` or ``AddChannelAudio``)."""
        self.traffic(now)
        self.last_audio = max(self.last_audio, now)
        self._idle_warned.clear()

    def next_due(self) -> float:
        """The earliest time at which :meth:`due` may have something to say."""
        session_end, idle_end = self._session_end(), self._idle_end()
        times = [self.last_traffic + self.limits.no_traffic_timeout, session_end]
        times += [
            session_end - o for o in self._pending(self._session_offsets(), self._session_warned)
        ]
        if self.audio_expected:
            times.append(idle_end)
            times += [idle_end - o for o in self._pending(self._idle_offsets(), self._idle_warned)]
        return min(times)

    def due(self, now: float) -> tuple[list[Message], Expired | None]:
        """Warnings to send now, and the limit that has ended the session, if one has."""
        lim = self.limits
        if now >= self._session_end():
            return [], Expired(
                ErrorType.SESSION_TIMEOUT,
                f"maximum session duration of {duration(lim.max_session_length)} reached",
            )
        if self.audio_expected and now >= self._idle_end():
            return [], Expired(
                ErrorType.IDLE_TIMEOUT,
                f"idle duration limit reached: no audio sent within the last "
                f"{duration(lim.idle_timeout)}",
            )
        if now >= self.last_traffic + lim.no_traffic_timeout:
            return [], Expired(
                ErrorType.IDLE_TIMEOUT,
                f"no audio and no ping/pong received within the last "
                f"{duration(lim.no_traffic_timeout)}",
            )
        warnings: list[Message] = []
        for offset in self._pending(self._session_offsets(), self._session_warned):
            if now >= self._session_end() - offset:
                self._session_warned.add(offset)
                warnings.append(_warning(
                    "session_timeout",
                    f"Session will timeout in {duration(offset)} due to max duration, session "
                    f"has been active for {duration(lim.max_session_length - offset)}",
                ))  # fmt: skip
        if self.audio_expected:
            for offset in self._pending(self._idle_offsets(), self._idle_warned):
                if now >= self._idle_end() - offset:
                    self._idle_warned.add(offset)
                    warnings.append(_warning(
                        "idle_timeout",
                        f"Session will timeout in {duration(offset)} due to inactivity, no audio "
                        f"sent within the last {duration(lim.idle_timeout - offset)}",
                    ))  # fmt: skip
        return warnings, None

    # --- internals

    def _idle_end(self) -> float:
        return self.last_audio + self.limits.idle_timeout

    def _session_end(self) -> float:
        return self.opened + self.limits.max_session_length

    def _idle_offsets(self) -> tuple[float, ...]:
        return warning_offsets(self.limits.idle_timeout, IDLE_WARNINGS)

    def _session_offsets(self) -> tuple[float, ...]:
        return warning_offsets(self.limits.max_session_length, SESSION_WARNINGS)

    @staticmethod
    def _pending(offsets: tuple[float, ...], warned: set[float]) -> list[float]:
        return [o for o in offsets if o not in warned]


def _warning(kind: str, reason: str) -> Message:
    return {"message": ServerMessage.WARNING.value, "type": kind, "reason": reason}
