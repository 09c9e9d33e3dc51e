"""Writing a session to disk: tables as CSV or Parquet and a summary.

Object columns (``payload``) are written as JSON text, so every exported
table is flat and readable by any tool. Everything written passes through
:mod:`smnb.recorder.sanitize` first; the log itself is written by
:func:`smnb.recorder.jsonl.write_jsonl`.

Imports pandas (and pyarrow lazily, for Parquet); never the transport.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from smnb.recorder.sanitize import sanitize
from smnb.tables.columns import TEXT

TABLE_FILES = (
    "words",
    "partials",
    "transcripts",
    "utterances",
    "events",
    "audio",
    "connections",
)
"""The tables written by ``Result.to_csv``/``to_parquet`` (``messages`` goes out as JSONL)."""

PARQUET_HINT = (
    "Result.to_parquet needs pyarrow, which is not installed; "
    "install it with: pip install 'smnb[parquet]'"
)


def require_pyarrow() -> None:
    """Raise a helpful ImportError when pyarrow is missing."""
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise ImportError(PARQUET_HINT) from exc


def flat(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with object (JSON) columns serialised as JSON text."""
    out = df.copy(deep=False)
    if "payload" in out.columns:
        out["payload"] = pd.array(
            [None if v is None else _dumps(sanitize(v)) for v in out["payload"]], dtype=TEXT
        )
    return out


def write_tables(tables: Mapping[str, pd.DataFrame], directory: Path, fmt: str) -> list[Path]:
    """Write each table as ``<name>.csv`` or ``<name>.parquet``; returns the paths."""
    if fmt == "parquet":
        require_pyarrow()
    paths = []
    for name in TABLE_FILES:
        df = flat(tables[name])
        path = directory / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        else:
            df.to_parquet(path, index=False)
        paths.append(path)
    return paths


def same_file(a: Path | None, b: Path) -> bool:
    """True when ``a`` and ``b`` name the same file (b need not exist)."""
    if a is None:
        return False
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def write_json(obj: Any, path: Path) -> Path:
    """Pretty JSON (NaN written as null)."""
    path.write_text(_dumps(obj, indent=2) + "\n", encoding="utf-8")
    return path


def _dumps(obj: Any, indent: int | None = None) -> str:
    return json.dumps(_nan_to_none(obj), ensure_ascii=False, indent=indent, default=str)


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj
