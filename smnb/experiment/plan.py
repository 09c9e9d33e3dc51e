"""Planning a sweep: the grid of settings, the session list and its run order.

A sweep runs every (file × setting × repeat) session. A *setting* is one combination of
the swept ``transcription_config`` fields: ``grid(max_delay=[1, 2], max_delay_mode=["fixed",
"flexible"])`` gives four. The run order is **block-randomised**: repeat round *r* holds
every (file × setting) once, shuffled with ``random.Random(seed)``, so settings are
interleaved in time (network or load drift is not confounded with ``max_delay``) and
repeats are spread over the whole run.

A :class:`SessionSpec` is plain data (picklable, JSON-able) so it can travel to another
process or machine through any executor.

Stdlib only. Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smnb.exceptions import ConfigError
from smnb.protocol.config import DEFAULT_TRANSCRIPTION

DEFAULT_CONFIG: dict[str, Any] = DEFAULT_TRANSCRIPTION  # one definition, shared with sessions
"""Fixed ``transcription_config`` of every sweep session unless overridden (partials are
needed for partial latency and stability)."""


@dataclass(frozen=True)
class SessionSpec:
    """One session of a sweep: which file, which settings, which repeat, where to write."""

    session_id: str
    order: int
    """Position in the run order (0-based)."""
    file: str
    label: str
    """Short unique name of the file (its stem, deduplicated)."""
    repeat: int
    settings: dict[str, Any] = field(default_factory=dict)
    """The swept fields and their values for this session."""
    config: dict[str, Any] = field(default_factory=dict)
    """The full ``transcription_config`` sent."""
    out_dir: str | None = None
    url: str | None = None
    pace: str = "realtime"

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (written as ``spec.json`` beside the session's log)."""
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> SessionSpec:
        """Inverse of :meth:`to_json`."""
        return cls(**dict(obj))


def is_swept(value: Any) -> bool:
    """Lists, tuples and ranges are swept; anything else (str, number, dict) is fixed."""
    return isinstance(value, list | tuple | range)


def split_fields(fields: Mapping[str, Any]) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """(swept fields with their value lists, fixed fields)."""
    swept = {k: list(v) for k, v in fields.items() if is_swept(v)}
    fixed = {k: v for k, v in fields.items() if not is_swept(v)}
    for name, values in swept.items():
        if not values:
            raise ValueError(f"{name}: give at least one value to sweep")
    return swept, fixed


def grid(swept: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the swept values, in the order given (one empty setting if none)."""
    names = list(swept)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*swept.values())]


def labels(files: Sequence[str | Path]) -> list[str]:
    """A short unique label per file: its stem, with ``-2``, ``-3`` … on collisions."""
    seen: dict[str, int] = {}
    out = []
    for f in files:
        stem = Path(f).name.split(".")[0] or "audio"
        seen[stem] = seen.get(stem, 0) + 1
        out.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return out


def slug(settings: Mapping[str, Any]) -> str:
    """A file-name-safe rendering of a setting: ``max_delay-1_max_delay_mode-fixed``."""
    parts = [f"{k}-{_value(v)}" for k, v in settings.items()]
    return re.sub(r"[^A-Za-z0-9_.-]+", "", "_".join(parts)) or "default"


def _value(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def plan(
    files: Sequence[str | Path],
    settings: Sequence[Mapping[str, Any]],
    *,
    repeats: int = 1,
    seed: int = 0,
    base_config: Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    url: str | None = None,
    pace: str = "realtime",
) -> list[SessionSpec]:
    """The sessions of a sweep, in their run order (see the module docstring)."""
    if repeats < 1:
        raise ConfigError("repeats must be at least 1")
    if not files:
        raise ConfigError("a sweep needs at least one audio file")
    rng = random.Random(seed)
    names = labels(files)
    base = {**DEFAULT_CONFIG, **dict(base_config or {})}
    specs: list[SessionSpec] = []
    for repeat in range(repeats):
        block = [(f, n, s) for f, n in zip(files, names, strict=True) for s in settings]
        rng.shuffle(block)
        for file, name, setting in block:
            order = len(specs)
            sid = f"{order:03d}_{name}_{slug(setting)}_r{repeat}"
            specs.append(
                SessionSpec(
                    session_id=sid,
                    order=order,
                    file=str(Path(file).resolve()),
                    label=name,
                    repeat=repeat,
                    settings=dict(setting),
                    config={**base, **dict(setting)},
                    out_dir=str(Path(out) / "sessions" / sid) if out is not None else None,
                    url=url,
                    pace=pace,
                )
            )
    return specs


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def as_list(value: str | Path | Iterable[str | Path]) -> list[str | Path]:
    """One path or many, as a list."""
    if isinstance(value, str | Path):
        return [value]
    return list(value)
