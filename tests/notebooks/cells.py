"""Reading executed notebooks: cells, what they printed, their widgets' saved state."""

from __future__ import annotations

from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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


def displayed(cell: Any) -> list[dict[str, Any]]:
    """The mime bundles a cell displayed, in order."""
    return [
        dict(out.data)
        for out in cell.outputs
        if out.output_type in ("execute_result", "display_data")
    ]


def images(cell: Any) -> int:
    """How many PNG images a cell displayed."""
    return sum("image/png" in data for data in displayed(cell))


def assert_clean(nb: Any) -> None:
    """No error output and nothing at all on stderr, in any cell."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.ename}: {out.evalue}"
            if out.output_type == "stream":
                assert out.name != "stderr", f"stderr in {cell.source[:60]!r}: {out.text}"


def widget_views(cell: Any) -> list[str]:
    """Model ids of the widgets a cell displayed."""
    return [data[WIDGET_VIEW]["model_id"] for data in displayed(cell) if WIDGET_VIEW in data]


def widget_states(nb: Any) -> dict[str, dict[str, Any]]:
    """Every widget model saved in the notebook, by model id."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return dict(state.get("state", {}))


def descendants(states: dict[str, dict[str, Any]], model_id: str) -> list[dict[str, Any]]:
    """A widget's model and every model under it (children of boxes)."""
    out, todo = [], [model_id]
    while todo:
        model = states[todo.pop()]
        out.append(model)
        for child in model["state"].get("children", []):
            todo.append(child.removeprefix("IPY_MODEL_"))
    return out


def live_view(nb: Any, states: dict[str, dict[str, Any]], snippet: str) -> dict[str, Any]:
    """What the live view displayed by a cell saved: transcript, status, buttons, snapshot."""
    cell = cell_with(nb, snippet)
    views = widget_views(cell)
    assert len(views) == 1, f"the cell {snippet!r} should display one view, not {len(views)}"
    models = descendants(states, views[0])
    values = [m["state"].get("value", "") for m in models if m["model_name"] == "HTMLModel"]
    transcript = [v for v in values if "smnb-transcript" in v]
    status = [v for v in values if "smnb-status" in v]
    assert transcript and status, f"no transcript/status HTML under {snippet!r}: {values}"
    bundle = next(data for data in displayed(cell) if WIDGET_VIEW in data)
    return {
        "transcript": transcript[0],
        "status": status[0],
        "buttons": [m["state"] for m in models if m["model_name"] == "ButtonModel"],
        "anywidgets": [m["state"] for m in models if m["model_module"] == "anywidget"],
        "snapshot_text": bundle.get("text/plain", ""),
        "snapshot_html": bundle.get("text/html", ""),
    }
