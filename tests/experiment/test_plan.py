"""smnb.experiment.plan: the grid, the seeded block-randomised order, labels and slugs."""

from __future__ import annotations

import pytest

from smnb.experiment.plan import grid, labels, plan, slug, split_fields


def test_grid_and_fixed_fields() -> None:
    swept, fixed = split_fields({"max_delay": [1, 2], "max_delay_mode": ("fixed", "flexible"),
                                 "language": "en", "operating_point": "enhanced"})  # fmt: skip
    assert fixed == {"language": "en", "operating_point": "enhanced"}
    assert grid(swept) == [
        {"max_delay": 1, "max_delay_mode": "fixed"},
        {"max_delay": 1, "max_delay_mode": "flexible"},
        {"max_delay": 2, "max_delay_mode": "fixed"},
        {"max_delay": 2, "max_delay_mode": "flexible"},
    ]
    assert grid({}) == [{}]
    with pytest.raises(ValueError, match="max_delay"):
        split_fields({"max_delay": []})


def test_plan_is_seeded_block_randomised() -> None:
    settings = grid({"max_delay": [0.7, 1, 2, 4]})
    specs = plan(["a.wav", "b.wav"], settings, repeats=3, seed=5, out="/runs/x")
    assert len(specs) == 2 * 4 * 3
    assert [s.order for s in specs] == list(range(24))
    for r in range(3):  # each repeat round holds every (file, setting) exactly once
        block = [(s.label, s.settings["max_delay"]) for s in specs if s.repeat == r]
        assert sorted(block) == sorted((f, md) for f in "ab" for md in (0.7, 1, 2, 4))
    again = plan(["a.wav", "b.wav"], settings, repeats=3, seed=5, out="/runs/x")
    assert [s.session_id for s in again] == [s.session_id for s in specs]
    other = plan(["a.wav", "b.wav"], settings, repeats=3, seed=6, out="/runs/x")
    assert [s.session_id for s in other] != [s.session_id for s in specs]
    first = specs[0]
    assert first.config == {"language": "en", "enable_partials": True, **first.settings}
    assert first.out_dir == f"/runs/x/sessions/{first.session_id}"


def test_labels_and_slugs() -> None:
    assert labels(["x/a.wav", "y/a.wav", "b.flac"]) == ["a", "a-2", "b"]
    assert slug({"max_delay": 1.0, "max_delay_mode": "fixed"}) == "max_delay-1_max_delay_mode-fixed"
    assert slug({}) == "default"
