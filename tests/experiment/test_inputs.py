"""smnb.experiment.inputs: references resolved per file, and the manifest of a sweep."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from smnb.experiment.inputs import manifest, resolve_references
from smnb.experiment.plan import grid, labels, plan
from smnb.metrics import Reference, normalise


def test_references_default_to_the_files_beside_each_clip(clips: list[Path]) -> None:
    names = labels(clips)
    refs = resolve_references(clips, names)
    assert all(r is not None and r.timings for r in refs.values())
    assert resolve_references(clips, names, False) == dict.fromkeys(names)
    given = Reference("hello")
    assert resolve_references(clips, names, [given, None])[names[0]] is given
    with pytest.raises(ValueError, match="expected 2 entries"):
        resolve_references(clips, names, [None])
    with pytest.raises(FileNotFoundError, match="reference not found"):
        resolve_references(clips, names, [clips[0].with_name("nope.txt"), None])


def test_the_manifest_says_what_the_numbers_depend_on(clips: list[Path]) -> None:
    specs = plan(clips, grid({"max_delay": [1, 2]}))
    info = manifest(
        specs, swept={"max_delay": [1, 2]}, fixed={}, references=resolve_references(
            clips, labels(clips)), seed=0, bootstrap_seed=1, n_resamples=10, repeats=1,
        concurrency=2, url="wss://eu.rt.example/v2?jwt=SECRET", endpoint="saas",
        pace="realtime", warmup=True, runner="in-process asyncio",
    )  # fmt: skip
    assert info["normaliser"] == normalise.describe()
    assert info["versions"]["whisper-normalizer"] == version("whisper-normalizer")
    assert info["statistics"]["quantile_method"] == "linear"
    assert "SECRET" not in str(info) and info["server"]["endpoint"] == "saas"
    assert info["n_sessions"] == 4 and set(info["files"]) == set(labels(clips))
