"""A sweep's inputs: references per audio file, and the manifest that records the run.

References default to the files next to each audio file: ``<stem>.txt`` (text) and
``<stem>.words.json`` (word timings). Either can be given explicitly per file, or
switched off with ``references=False``.

The manifest says what was run and with what, so a reader can judge and repeat it:
settings, seeds, audio SHA-256, versions of smnb/python/numpy/pandas/jiwer/matplotlib,
the normaliser, the quantile method and the server URL (credentials removed).

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from smnb._version import __version__
from smnb.exceptions import ConfigError
from smnb.experiment.plan import SessionSpec, sha256
from smnb.metrics import normalise
from smnb.metrics.reference import Reference
from smnb.metrics.stats import QUANTILE_METHOD
from smnb.metrics.summary import BOUND_OVERHEAD_S
from smnb.protocol.config import CHANNEL_MODES
from smnb.recorder.sanitize import redact_url

RefInput = str | Path | Reference | None
"""A reference for one file: a ``.txt`` path, a :class:`Reference`, or None (none)."""


def resolve_references(
    files: Sequence[str | Path],
    labels: Sequence[str],
    references: Sequence[RefInput] | bool | None = None,
    word_timings: Sequence[str | Path | None] | None = None,
) -> dict[str, Reference | None]:
    """label → Reference (or None) for each file.

    Args:
        references: None/True for the default ``<stem>.txt``; False for none; or one
            entry per file (a ``.txt`` path, a Reference, or None).
        word_timings: one ``.words.json`` path (or None) per file; default
            ``<stem>.words.json`` when present. Ignored for entries given as a Reference.
    """
    n = len(files)
    if isinstance(references, Sequence) and len(references) != n:
        raise ValueError(
            f"references: expected {n} entries (one per audio file), got {len(references)}"
        )
    if word_timings is not None and len(word_timings) != n:
        raise ValueError(f"word_timings: expected {n} entries, got {len(word_timings)}")
    out: dict[str, Reference | None] = {}
    for k, (file, label) in enumerate(zip(files, labels, strict=True)):
        if references is False:
            out[label] = None
            continue
        given = references[k] if isinstance(references, Sequence) else None
        if isinstance(given, Reference):
            out[label] = given
            continue
        audio = Path(file)
        text = Path(given) if given is not None else audio.with_suffix(".txt")
        if given is not None and not text.is_file():
            raise FileNotFoundError(f"reference not found: {text}")
        timing = word_timings[k] if word_timings is not None else None
        if timing is not None and not Path(timing).is_file():
            raise FileNotFoundError(f"word timings not found: {timing}")
        timings = Path(timing) if timing is not None else _default_timings(audio)
        if not text.is_file() and timings is None:
            out[label] = None
        else:
            out[label] = Reference.from_files(text if text.is_file() else None, timings)
    return out


def refuse_channel_references(
    files: Sequence[str | Path],
    references: Sequence[RefInput] | bool | None,
    word_timings: Sequence[str | Path | None] | None,
    configs: Sequence[Mapping[str, Any]],
) -> None:
    """Refuse a reference given explicitly for channel-diarized sessions, which it cannot
    score (one transcript per channel); a discovered ``<stem>.txt`` is simply not used.

    Raises:
        ConfigError: naming the first such file.
    """
    modes = sorted({str(c.get("diarization")) for c in configs} & set(CHANNEL_MODES))
    if not modes:
        return
    for k, file in enumerate(files):
        given = isinstance(references, Sequence) and references[k] is not None
        if given or (word_timings is not None and word_timings[k] is not None):
            raise ConfigError(
                f"references: {Path(file).name}: a reference cannot score a channel-diarized"
                f" session (diarization={modes[0]!r}: one transcript per channel); give None"
                " for it, or sweep it without channel diarization"
            )


def _default_timings(audio: Path) -> Path | None:
    path = audio.with_suffix(".words.json")
    return path if path.is_file() else None


def versions() -> dict[str, str]:
    """Versions of smnb, Python and the libraries the numbers depend on."""
    out = {"smnb": __version__, "python": sys.version.split()[0], "platform": platform.platform()}
    dists = ("numpy", "pandas", "jiwer", "whisper-normalizer", "matplotlib", "websockets",
             "pocketsphinx")  # fmt: skip
    for dist in dists:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def manifest(
    specs: Sequence[SessionSpec],
    *,
    swept: Mapping[str, Sequence[Any]],
    fixed: Mapping[str, Any],
    references: Mapping[str, Reference | None],
    seed: int,
    bootstrap_seed: int,
    n_resamples: int,
    repeats: int,
    concurrency: int,
    url: str | None,
    endpoint: str,
    pace: str,
    warmup: bool,
    runner: str,
) -> dict[str, Any]:
    """The JSON-able manifest of a sweep (no credentials: URLs are redacted)."""
    files: dict[str, dict[str, Any]] = {}
    for spec in specs:
        if spec.label in files:
            continue
        ref = references.get(spec.label)
        files[spec.label] = {
            "path": spec.file,
            "sha256": sha256(spec.file),
            "bytes": Path(spec.file).stat().st_size,
            "reference": None if ref is None else ref.name,
            "word_timings": ref is not None and ref.timings is not None,
        }
    return {
        "kind": "smnb-sweep",
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "swept": {k: list(v) for k, v in swept.items()},
        "fixed_config": dict(fixed),
        "repeats": repeats,
        "n_sessions": len(specs),
        "concurrency": concurrency,
        "pace": pace,
        "warmup": warmup,
        "runner": runner,
        "order": "block-randomised per repeat, random.Random(seed).shuffle",
        "seeds": {"order": seed, "bootstrap": bootstrap_seed},
        "statistics": {
            "quantile_method": QUANTILE_METHOD,
            "bootstrap": "percentile, resampling files",
            "bootstrap_seed": bootstrap_seed,
            "n_resamples": n_resamples,
            "bound_overhead_s": BOUND_OVERHEAD_S,
        },
        "normaliser": normalise.describe(),
        "server": {"url": redact_url(url) if url else None, "endpoint": endpoint},
        "versions": versions(),
        "files": files,
    }
