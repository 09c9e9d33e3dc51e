"""Executing notebooks for tests: nbclient, the ``python3`` kernel, no API key.

:func:`execute` runs a notebook in a working directory with widget state stored (as a
saved copy would keep it) and returns how long it took. :func:`sections` splits a
notebook into its set-up and its numbered sections (``## 1. …``), so a test can run the
set-up and one section alone, in a fresh kernel, as a reader who skips around would.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
KERNEL = "python3"
TIMEOUT = 300  # per cell; the slowest cell streams files at real-time pace
SECTION = re.compile(r"^## \d+\.", re.M)
"""A numbered section starts at a markdown cell whose heading is ``## <n>.``."""


def execute(nb: Any, cwd: Path, kernel: str = KERNEL) -> float:
    """Run every cell of ``nb`` in place in ``cwd``, without an API key; the seconds taken."""
    saved = os.environ.pop("SPEECHMATICS_API_KEY", None)  # the embedded server, always
    client = NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name=kernel,
        store_widget_state=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    start = time.monotonic()
    try:
        client.execute()
    finally:
        if saved is not None:
            os.environ["SPEECHMATICS_API_KEY"] = saved
    return time.monotonic() - start


def sections(nb: Any) -> tuple[list[Any], list[tuple[str, list[Any]]]]:
    """(set-up cells, [(section heading, its cells)]): the set-up is everything before ``## 1.``."""
    setup: list[Any] = []
    parts: list[tuple[str, list[Any]]] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and SECTION.match(cell.source):
            parts.append((cell.source.splitlines()[0], [cell]))
        elif parts:
            parts[-1][1].append(cell)
        else:
            setup.append(cell)
    return setup, parts


def with_cells(nb: Any, cells: list[Any]) -> Any:
    """A new notebook of ``cells`` (copies, outputs cleared) with ``nb``'s metadata."""
    fresh = [nbformat.from_dict(dict(cell)) for cell in cells]
    for cell in fresh:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.v4.new_notebook(cells=fresh, metadata=dict(nb.metadata))
