"""Finding a notebook's cells and what they printed (shared by the notebook checks)."""

from __future__ import annotations

from typing import Any


def cell_with(nb: Any, snippet: str) -> Any:
    """The one code cell whose source contains ``snippet``."""
    cells = [c for c in nb.cells if c.cell_type == "code" and snippet in c.source]
    assert len(cells) == 1, f"expected one code cell containing {snippet!r}, found {len(cells)}"
    return cells[0]


def text_of(cell: Any) -> str:
    """Everything a cell printed or displayed as text/plain or text/html."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
            parts.append(out.data.get("text/html", ""))
    return "\n".join(parts)
