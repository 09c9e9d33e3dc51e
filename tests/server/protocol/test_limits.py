"""Session limits on a clock: the SaaS's warnings and errors, at the documented times."""

from __future__ import annotations

import pytest

from smnb.server.protocol.limits import LimitClock, Limits, duration, warning_offsets


def drain(clock: LimitClock, until: float, step: float = 1.0) -> list[tuple[float, str, str]]:
    """Everything due between now and ``until``: (time, message type, warning/error type)."""
    out: list[tuple[float, str, str]] = []
    t = clock.opened
    while t <= until:
        warnings, expired = clock.due(t)
        out += [(t, w["message"], w["type"]) for w in warnings]
        if expired is not None:
            out.append((t, "Error", expired.error_type))
            break
        t += step
    return out


def test_the_documented_defaults() -> None:
    limits = Limits()
    assert (limits.idle_timeout, limits.no_traffic_timeout) == (3600, 180)
    assert limits.max_session_length == 48 * 3600


def test_an_idle_session_is_warned_at_15_10_and_5_minutes_then_ended() -> None:
    clock = LimitClock(Limits(no_traffic_timeout=1e9), opened=0.0)
    events = drain(clock, 3700, step=30)
    assert events == [
        (2700, "Warning", "idle_timeout"),
        (3000, "Warning", "idle_timeout"),
        (3300, "Warning", "idle_timeout"),
        (3600, "Error", "idle_timeout"),
    ]
    warnings, _ = LimitClock(Limits(no_traffic_timeout=1e9), opened=0.0).due(2700)
    assert warnings[0]["reason"] == (
        "Session will timeout in 15m due to inactivity, no audio sent within the last 45m"
    )


def test_audio_restarts_the_idle_countdown_and_its_warnings() -> None:
    clock = LimitClock(Limits(idle_timeout=10, no_traffic_timeout=1e9), opened=0.0)
    assert clock.next_due() == 5.0  # one warning halfway for a limit under 5 minutes
    warnings, expired = clock.due(6.0)
    assert [w["type"] for w in warnings] == ["idle_timeout"] and expired is None
    assert "timeout in 5s" in warnings[0]["reason"]
    clock.audio(8.0)
    assert clock.next_due() == 13.0
    assert clock.due(12.0) == ([], None)
    _, expired = clock.due(18.0)
    assert expired is not None and expired.error_type == "idle_timeout"
    assert "no audio sent within the last 10s" in expired.reason


def test_no_idle_limit_once_the_stream_has_ended() -> None:
    clock = LimitClock(Limits(idle_timeout=10, no_traffic_timeout=1e9), opened=0.0)
    clock.audio_expected = False
    assert clock.due(100.0) == ([], None)


def test_silence_without_pongs_ends_the_session_after_the_no_traffic_limit() -> None:
    clock = LimitClock(Limits(), opened=0.0)
    clock.traffic(100.0)  # a pong: the client is there
    assert clock.due(279.0) == ([], None)
    _, expired = clock.due(280.0)
    assert expired is not None and expired.error_type == "idle_timeout"
    assert "no audio and no ping/pong" in expired.reason


def test_the_session_length_limit_warns_at_45_30_15_minutes() -> None:
    clock = LimitClock(Limits(max_session_length=7200, no_traffic_timeout=1e9), opened=0.0)
    clock.audio_expected = False  # only its length can end this session
    events = drain(clock, 7300, step=60)
    assert events == [
        (4500, "Warning", "session_timeout"),
        (5400, "Warning", "session_timeout"),
        (6300, "Warning", "session_timeout"),
        (7200, "Error", "session_timeout"),
    ]
    busy = Limits(max_session_length=7200, idle_timeout=1e9, no_traffic_timeout=1e9)
    warnings, _ = LimitClock(busy, opened=0.0).due(4500)
    assert warnings[0]["reason"] == (
        "Session will timeout in 45m due to max duration, session has been active for 75m"
    )


def test_offsets_and_durations() -> None:
    assert warning_offsets(3600, (900, 600, 300)) == (900, 600, 300)
    assert warning_offsets(700, (900, 600, 300)) == (600, 300)
    assert warning_offsets(4, (900, 600, 300)) == (2,)
    assert (duration(900), duration(2.5), duration(90)) == ("15m", "2.5s", "90s")


@pytest.mark.parametrize("field", ["idle_timeout", "no_traffic_timeout", "max_session_length"])
def test_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})
