"""smnb.widgets.outputs: views shown as one output holding the widget and a static snapshot.

Display and rewriting run in a real ``python3`` kernel driven by nbclient, so the outputs
checked are those a saved notebook keeps; the plain-script case runs in a real interpreter
with no IPython shell. The registry and the widget walk use real ipywidgets.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import pytest

from smnb.widgets import outputs
from smnb.widgets.outputs import descendants, live_views, register, widget_view
from tests.support.notebooks import ROOT, execute

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# Cell by cell: shown twice (two cells), then rewritten while the kernel cannot publish,
# then rewritten from another thread after its cell has ended (as the session loop does).
CELLS = [
    """
    import logging, threading, time
    import ipywidgets
    from smnb.widgets.outputs import Outputs, widget_view

    label = ipywidgets.Label("hello")
    def bundle(text):
        return {**widget_view(label), "text/plain": text, "text/html": f"<b>{text}</b>"}

    out = Outputs()
    print("shown before:", bool(out))
    out.show(bundle("first"))
    print("shown after:", bool(out), label.model_id)
    """,
    """
    out.show(bundle("first again"))
    """,
    """
    records = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    logger = logging.getLogger("smnb.widgets.outputs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    shell = get_ipython()
    publisher, shell.display_pub = shell.display_pub, None  # nothing to publish to
    try:
        out.update(bundle("lost"))
    finally:
        shell.display_pub = publisher
    print("failures logged:", len(records), records[0].getMessage())
    """,
    """
    updater = threading.Thread(target=lambda: (time.sleep(0.3), out.update(bundle("final"))))
    updater.start()
    """,
    """
    updater.join()
    """,
]


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(c).strip()) for c in CELLS]
    execute(nb, tmp_path_factory.mktemp("outputs"))
    return nb


def stdout(cell: Any) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream")


def shown(cell: Any) -> list[dict[str, Any]]:
    return [dict(o.data) for o in cell.outputs if o.output_type == "display_data"]


def test_an_output_is_shown_only_once_show_is_called(notebook: Any) -> None:
    lines = stdout(notebook.cells[0]).splitlines()
    assert lines[0] == "shown before: False"
    assert lines[1].startswith("shown after: True ")


def test_each_output_holds_the_widget_reference_and_the_snapshot(notebook: Any) -> None:
    model_id = stdout(notebook.cells[0]).split()[-1]
    for cell in notebook.cells[:2]:
        (data,) = shown(cell)
        assert data[WIDGET_MIME] == {"version_major": 2, "version_minor": 0, "model_id": model_id}
        assert set(data) == {WIDGET_MIME, "text/plain", "text/html"}


def test_every_output_is_rewritten_in_place_even_from_another_thread(notebook: Any) -> None:
    for cell in notebook.cells[:2]:
        (data,) = shown(cell)
        assert data["text/plain"] == "final"
        assert data["text/html"] == "<b>final</b>"
    assert all(not shown(cell) for cell in notebook.cells[2:])  # no new outputs appeared


def test_an_update_with_nowhere_to_publish_is_logged_not_raised(notebook: Any) -> None:
    # The cell ran to its end (nbclient raises on an error), and later updates still work.
    report = stdout(notebook.cells[2])
    assert report.startswith("failures logged: 2 could not update a view's output"), report


def test_in_a_plain_script_nothing_is_shown_and_updates_are_harmless(tmp_path: Path) -> None:
    script = """
    from smnb.widgets.outputs import Outputs
    out = Outputs()
    out.show({"text/plain": "snapshot", "text/html": "<b>snapshot</b>"})
    out.update({"text/plain": "later"})
    print("shown:", bool(out))
    out.print_final("the end")
    out.print_final("the end again")
    """
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["shown: False", "the end"]  # no bundle dict, once


# --------------------------------------------------------------------- in this process


class View:
    """Anything shown: the registry only needs it to be weakly referable."""


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs, "_SHOWN", [])  # this test's views only


@pytest.mark.usefixtures("registry")
def test_live_views_are_listed_once_in_the_order_first_shown() -> None:
    first, second, never = View(), View(), View()
    assert live_views() == []
    register(first)
    register(second)
    register(first)  # shown again
    assert live_views() == [first, second]
    assert never not in live_views()


@pytest.mark.usefixtures("registry")
def test_a_view_that_is_gone_is_no_longer_listed() -> None:
    kept, dropped = View(), View()
    register(dropped)
    register(kept)
    del dropped
    gc.collect()
    assert live_views() == [kept]
    assert len(outputs._SHOWN) == 1  # its dead reference is pruned too


def test_widget_view_references_the_widgets_model() -> None:
    import ipywidgets

    label = ipywidgets.Label("x")
    view = widget_view(label)
    assert view == {
        WIDGET_MIME: {"version_major": 2, "version_minor": 0, "model_id": label.model_id}
    }
    assert widget_view(ipywidgets.Label("y"))[WIDGET_MIME]["model_id"] != label.model_id


def test_descendants_lists_every_widget_under_a_box_once() -> None:
    import ipywidgets

    shared, button, title = ipywidgets.Label("shared"), ipywidgets.Button(), ipywidgets.HTML("t")
    inner = ipywidgets.HBox([shared, button])
    root = ipywidgets.VBox([title, inner, shared])  # "shared" is reached twice
    found = descendants(root)
    assert found[0] is root
    assert len(found) == 5
    assert {id(w) for w in found} == {id(w) for w in (root, title, inner, shared, button)}
    assert descendants(shared) == [shared]
