"""The capacity model: CPU seconds per audio second → how many real-time sessions fit."""

from __future__ import annotations

import math

import pytest

from smnb.server.engine import capacity
from smnb.server.engine.capacity import UTILISATION, CapacityModel, usable_cpus


def test_capacity_follows_the_measured_cost() -> None:
    model = CapacityModel("k1", limit=64, cpus=2.0)
    assert model.sessions == 64 and "set, not measured" in model.describe()
    model.calibrated(0.12)
    assert model.sessions == math.floor(2 * UTILISATION / 0.12) == 9
    assert "0.120 CPU s per audio s on 2 CPUs" in model.describe()
    model.calibrated(10.0)
    assert model.sessions == 1  # never below one session


def test_finished_real_time_sessions_move_the_estimate_by_their_audio() -> None:
    model = CapacityModel("k2", limit=64, cpus=4.0, cost=0.1)
    model.session_ended(cpu_seconds=0.5, audio_seconds=1.0, wall_seconds=1.0)  # too short
    assert model.cost == 0.1
    model.session_ended(cpu_seconds=6.0, audio_seconds=120.0, wall_seconds=10.0)  # 12× real time
    assert model.cost == 0.1  # a file sent as fast as possible: not a live stream's cost
    model.session_ended(cpu_seconds=24.0, audio_seconds=120.0, wall_seconds=121.0)
    assert model.cost == pytest.approx(0.15)  # halfway: HALF_WEIGHT_SECONDS of audio
    assert capacity.known_cost("k2") == pytest.approx(0.15)  # remembered for the process


def test_a_fixed_capacity_ignores_measurements_and_the_limit_caps_all() -> None:
    fixed = CapacityModel("k3", limit=3, fixed=True, cpus=8.0)
    fixed.session_ended(cpu_seconds=1.0, audio_seconds=100.0, wall_seconds=100.0)
    assert fixed.sessions == 3
    capped = CapacityModel("k4", limit=5, cpus=8.0, cost=0.01)
    assert capped.sessions == 5


def test_usable_cpus_is_at_least_one() -> None:
    assert usable_cpus() >= 1.0


def test_sessions_reserved_on_purpose_are_admitted_above_the_measured_capacity() -> None:
    model = CapacityModel("k5", limit=8, cpus=2.0, cost=0.4)
    assert model.sessions == model.measured_sessions == 2
    model.reserved = 3  # a sweep's concurrency on its own embedded server
    assert model.sessions == 3 and model.measured_sessions == 2
    model.reserved = 20
    assert model.sessions == 8  # never above the limit
