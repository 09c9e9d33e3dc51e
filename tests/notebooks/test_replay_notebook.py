"""notebooks/05-real-service-vs-local.ipynb runs headlessly and shows the real service's timing.

Without a key the "real service" is the replay of chat1.jsonl, so what the notebook
prints can be checked against the recording itself: the same transcript, and the same
latency and final cadence within a tenth of a second.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import smnb
from smnb.metrics import analyse
from smnb.result import Result
from tests.notebooks.cells import cell_with, text_of
from tests.notebooks.test_notebooks import NOTEBOOK_DIR, SAMPLES, TIMEOUT, kernel  # noqa: F401

NOTEBOOK = NOTEBOOK_DIR / "05-real-service-vs-local.ipynb"


def row(table: str, name: str) -> list[float]:
    """The numbers of one row of a DataFrame's text/plain rendering."""
    line = next(line for line in table.splitlines() if line.startswith(name + " "))
    return [float(x) for x in line[len(name) :].split()]


def plain(cell: Any) -> str:
    return "\n".join(
        out.data.get("text/plain", "")
        for out in cell.outputs
        if out.output_type in ("execute_result", "display_data")
    )


@pytest.mark.slow
def test_the_replay_notebook_runs_and_shows_the_recordings_timing(
    kernel: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)  # the replay, not the SaaS
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=TIMEOUT, kernel_name=kernel, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.ename}: {out.evalue}"
            assert not (out.output_type == "stream" and out.name == "stderr"), out.text
    assert not any("assert " in c.source for c in nb.cells if c.cell_type == "code")

    recorded = smnb.load(SAMPLES / "chat1.jsonl")
    assert isinstance(recorded, Result)
    assert "the service is the Speechmatics SaaS (replayed recording)" in text_of(
        cell_with(nb, "SERVICE = ")
    )
    assert "final latency p50 0.78 s" in text_of(cell_with(nb, "recorded = smnb.load"))
    ran = text_of(cell_with(nb, "asyncio.gather("))
    assert "service: completed, 0 warnings" in ran and "local engine: completed" in ran, ran

    figure = cell_with(nb, "latency_ecdf(")
    assert any("image/png" in out.get("data", {}) for out in figure.outputs)

    latency = plain(cell_with(nb, "final_p50="))
    service, recording = row(latency, "service"), row(latency, "recording")
    assert service[0] == recording[0]  # the same words were counted
    assert abs(service[1] - recording[1]) <= 0.1, latency
    # The table counts the words metrics score: Whisper-normalised ("we're" is two, the
    # spoken "one two three one two three" is one number, timed by its last word), so its
    # p50 is analyse()'s median, not the card's p50 over the service's own words (0.78
    # above). The same numbers, rounded as DataFrame.round rounds them, must come out.
    counted = analyse(recorded).latency.query("counted")["final_latency_s"]
    assert recording[:2] == [len(counted), np.round(counted.median(), 2)], latency
    assert row(latency, "local engine")[0] > 0  # the local engine counted words too

    cadence = plain(cell_with(nb, "def cadence("))
    service, recording = row(cadence, "service"), row(cadence, "recording")
    assert service[:2] == recording[:2] == [61, 18]  # finals, empty finals
    assert abs(service[3] - recording[3]) <= 0.1, cadence  # a final every 0.37 s of audio

    texts = text_of(cell_with(nb, "print(result.text)"))
    service_text, local_text = re.split(r"^--- local engine$", texts, flags=re.M)
    assert recorded.text in service_text
    assert re.search(r"[a-z]{3,}", local_text.lower()), local_text


def test_the_generic_notebook_loop_leaves_this_notebook_to_this_file() -> None:
    from tests.notebooks.test_notebooks import HEADLESS, OWN_TEST

    assert OWN_TEST[NOTEBOOK.name] == Path(__file__).name
    assert NOTEBOOK not in HEADLESS and NOTEBOOK.is_file()
