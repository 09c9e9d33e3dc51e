"""Strip outputs from notebooks before they are committed.

Clears every code cell's outputs and execution count, and drops notebook-level
widget state and per-cell execution timing, so the notebooks in git are small,
diff cleanly and never carry a run's data (paths, timings, keys in tracebacks).

Usage::

    python scripts/strip_notebooks.py            # strip notebooks/*.ipynb in place
    python scripts/strip_notebooks.py --check    # exit 1 if any notebook is not stripped
    python scripts/strip_notebooks.py a.ipynb …  # just these

Stdlib only (notebooks are JSON), so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DROP_METADATA = ("widgets",)
DROP_CELL_METADATA = ("execution", "collapsed", "scrolled")


def strip(nb: dict[str, Any]) -> dict[str, Any]:
    """The notebook without outputs, execution counts, widget state or timing."""
    for key in DROP_METADATA:
        nb.get("metadata", {}).pop(key, None)
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {})
        for key in DROP_CELL_METADATA:
            meta.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def dumps(nb: dict[str, Any]) -> str:
    """nbformat's on-disk layout: 1-space indent, sorted keys, trailing newline."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def is_stripped(text: str) -> bool:
    """True if the notebook JSON is already exactly in stripped form."""
    return dumps(strip(json.loads(text))) == text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/)")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if unstripped")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    dirty = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if is_stripped(text):
            continue
        dirty.append(path)
        if not args.check:
            path.write_text(dumps(strip(json.loads(text))), encoding="utf-8")
    for path in dirty:
        print(f"{'not stripped' if args.check else 'stripped'}: {path}")
    return 1 if dirty and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
