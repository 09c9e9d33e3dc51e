"""Every notebook in notebooks/ runs headlessly, top to bottom, and shows what it should.

Each notebook is executed with nbclient on the ``python3`` kernel, without an API
key (so against smnb's embedded server), in a temporary working directory, with
widget state stored. Then its key outputs are asserted by a check registered for
it in ``CHECKS``: a notebook without checks fails, so a new notebook cannot slip
in untested. Also: notebooks in the repository are stripped of outputs, and the
Binder configuration is complete.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from tests.notebooks.cells import cell_with, text_of

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
OWN_TEST = {"05-real-service-vs-local.ipynb": "test_replay_notebook.py"}
"""Notebooks executed and checked by a test file of their own, not by the loop below."""
HEADLESS = [p for p in NOTEBOOKS if p.name not in OWN_TEST]
SAMPLES = ROOT / "smnb" / "samples"
KERNEL = "python3"
TIMEOUT = 300  # per cell; the slowest cell streams a file at real-time pace


def reference_words(name: str) -> list[str]:
    return (SAMPLES / f"{name}.txt").read_text().split()


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def overlap(reference: list[str], text: str) -> float:
    """Share of the reference's distinct words found in ``text``."""
    got = set(words_of(text))
    ref = set(reference)
    return len(ref & got) / len(ref)


# --- reading executed notebooks ---------------------------------------------------


def widget_views(cell: Any) -> list[str]:
    """Model ids of the widgets a cell displayed."""
    return [
        out.data["application/vnd.jupyter.widget-view+json"]["model_id"]
        for out in cell.outputs
        if out.output_type in ("execute_result", "display_data")
        and "application/vnd.jupyter.widget-view+json" in out.data
    ]


def widget_states(nb: Any) -> dict[str, dict[str, Any]]:
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    return {k: v for k, v in state.get("state", {}).items()}


def descendants(states: dict[str, dict[str, Any]], model_id: str) -> list[dict[str, Any]]:
    """A widget's model and every model under it (children of boxes)."""
    out, todo = [], [model_id]
    while todo:
        model = states[todo.pop()]
        out.append(model)
        for child in model["state"].get("children", []):
            todo.append(child.removeprefix("IPY_MODEL_"))
    return out


def live_view(nb: Any, states: dict[str, dict[str, Any]], snippet: str) -> dict[str, str]:
    """The transcript and status HTML of the live view displayed by a cell."""
    views = widget_views(cell_with(nb, snippet))
    assert len(views) == 1, f"the cell {snippet!r} should display one view, not {len(views)}"
    values = [
        m["state"].get("value", "")
        for m in descendants(states, views[0])
        if m["model_name"] == "HTMLModel"
    ]
    transcript = [v for v in values if "smnb-transcript" in v]
    status = [v for v in values if "smnb-status" in v]
    assert transcript and status, f"no transcript/status HTML under {snippet!r}: {values}"
    return {"transcript": transcript[0], "status": status[0]}


def assert_no_errors(nb: Any) -> None:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{out.ename}: {out.evalue}"
            if out.output_type == "stream" and out.name == "stderr":
                assert "Traceback" not in out.text, out.text


# --- per-notebook checks -------------------------------------------------------------


def check_quickstart(nb: Any, cwd: Path) -> None:
    ref = reference_words("librivox-ss01-0870")
    assert "embedded local server" in text_of(cell_with(nb, "TARGET ="))
    assert "and mister john dashwood" in text_of(cell_with(nb, "reference = "))
    card = text_of(cell_with(nb, "result = await smnb.atranscribe"))
    assert "completed" in card.lower(), card[:500]
    text = text_of(cell_with(nb, "print(result.text)"))
    assert overlap(ref, text) >= 0.5, text
    words_table = text_of(cell_with(nb, 'result.words[["content"'))
    assert "<table" in words_table and "latency_s" in words_table
    transcripts = text_of(cell_with(nb, "result.transcripts["))
    assert "partial" in transcripts and "final" in transcripts
    summary = text_of(cell_with(nb, "p50, p95 ="))
    assert re.search(r"final latency p50 \d+\.\d\d s, p95 \d+\.\d\d s", summary), summary
    listing = text_of(cell_with(nb, "result.to_csv("))
    for name in ("words.csv", "partials.csv", "messages.jsonl", "summary.json"):
        assert name in listing
        assert (cwd / "out" / "01-quickstart" / name).is_file()
    assert overlap(ref, text_of(cell_with(nb, "smnb.load(out)"))) >= 0.5


def check_live_and_microphone(nb: Any, cwd: Path) -> None:
    ref = reference_words("librivox-ss01-0870")
    states = widget_states(nb)
    # The live cell returned at once: the next cell saw the session still running.
    during = text_of(cell_with(nb, "print(view.status_text)"))
    assert "done" not in during and "audio sent" in during, during
    # After the run: the result, and the view showing finals and a finished status.
    assert overlap(ref, text_of(cell_with(nb, "result = await view"))) >= 0.5
    file_view = live_view(nb, states, "view = smnb.live(SAMPLES")
    assert "smnb-final" in file_view["transcript"]
    assert overlap(ref, re.sub(r"<[^>]+>", " ", file_view["transcript"])) >= 0.5
    assert "✓ done" in file_view["status"] and "last final latency" in file_view["status"]
    # Diarization: labels in the view, speakers in the table.
    diarized = live_view(nb, states, "speakers = smnb.live(")
    assert 'class="smnb-label">S1:</b>' in diarized["transcript"]
    assert 'class="smnb-label">S2:</b>' in diarized["transcript"]
    assert "S2" in text_of(cell_with(nb, "speakers_result.utterances"))
    # Browser mic: the anywidget is shown above the transcript; headless, nothing
    # arrives, and the notebook says why instead of hanging.
    mic_cell = cell_with(nb, "mic = smnb.widgets.BrowserMic()")
    models = descendants(states, widget_views(mic_cell)[0])
    mics = [m for m in models if m["model_module"] == "anywidget"]
    assert len(mics) == 1 and "smnb-pcm" in mics[0]["state"]["_esm"]
    assert mics[0]["state"]["sample_rate"] == 16000 and mics[0]["state"]["chunk_ms"] == 100
    waited = text_of(cell_with(nb, "await mic.wait_for_audio"))
    assert "No audio from the browser microphone yet" in waited and "headless run" in waited
    assert "waiting for audio" in text_of(cell_with(nb, "print(mic_view.status_text)"))
    # Local mic: a clear DeviceError message where there is none, a live view otherwise.
    local = cell_with(nb, "Microphone(max_seconds=15)")
    assert "Skipping the local microphone: no microphone" in text_of(local) or widget_views(
        local
    ), text_of(local)
    # The wrap-up cell re-sent the views' state.
    assert text_of(cell_with(nb, "v.refresh()")).count("audio sent") == 3


def _load(name: str, path: Path) -> Any:
    """A helper module by path (tests/ is not a package; pytest runs in importlib mode)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECKS: dict[str, Callable[[Any, Path], None]] = {
    "01-quickstart.ipynb": check_quickstart,
    "02-live-and-microphone.ipynb": check_live_and_microphone,
    # 03 and 04 are the experiment notebooks; their checks live with their authors' code.
    **_load("experiment_checks", Path(__file__).with_name("experiment_checks.py")).CHECKS,
}


# --- the tests -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kernel() -> str:
    """The ``python3`` kernelspec, installed into this Python's prefix if missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix"], check=True)
    return KERNEL


def test_there_are_notebooks() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"01-quickstart.ipynb", "02-live-and-microphone.ipynb"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("path", HEADLESS, ids=[p.stem for p in HEADLESS])
def test_notebook_runs_headless(
    path: Path, kernel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = CHECKS.get(path.name)
    assert check is not None, f"add output checks for {path.name} to CHECKS in {__file__}"
    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)  # the embedded server
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name=kernel,
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    assert_no_errors(nb)
    check(nb, tmp_path)


def _strip_module() -> Any:
    return _load("strip_notebooks", ROOT / "scripts" / "strip_notebooks.py")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_are_stripped(path: Path) -> None:
    strip = _strip_module()
    assert strip.is_stripped(path.read_text(encoding="utf-8")), (
        f"{path.name} has outputs: run `python scripts/strip_notebooks.py`"
    )
    if shutil.which("git") and (ROOT / ".git").exists():
        staged = subprocess.run(
            ["git", "show", f":notebooks/{path.name}"], cwd=ROOT, capture_output=True, text=True
        )
        if staged.returncode == 0:  # tracked: the committed form must be stripped too
            assert strip.is_stripped(staged.stdout), f"the staged {path.name} has outputs"


def test_strip_script_clears_outputs(tmp_path: Path) -> None:
    strip = _strip_module()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    nb.cells[0].execution_count = 1
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    assert strip.main(["--check", str(path)]) == 1
    assert strip.main([str(path)]) == 0
    assert strip.main(["--check", str(path)]) == 0
    again = nbformat.read(path, as_version=4)
    assert again.cells[0].outputs == [] and again.cells[0].execution_count is None
    assert "widgets" not in again.metadata


def test_binder_configuration(tmp_path: Path) -> None:
    binder = ROOT / "binder"
    assert not (ROOT / ".binder").exists(), "binder/ and .binder/ together break repo2docker"
    requirements = (binder / "requirements.txt").read_text().split("\n")
    assert "." in [line.split("#")[0].strip() for line in requirements]
    assert re.fullmatch(r"python-3\.1[12]\n?", (binder / "runtime.txt").read_text())
    post_build = binder / "postBuild"
    assert os.access(post_build, os.X_OK), "postBuild must be executable"
    env = dict(
        os.environ,
        NB_PYTHON_PREFIX=str(tmp_path),
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    subprocess.run(["bash", str(post_build)], check=True, env=env, cwd=ROOT, capture_output=True)
    overrides = json.loads((tmp_path / "share/jupyter/lab/settings/overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification == {"fetchNews": "false", "checkForUpdates": False}


def test_docs_link_every_notebook_on_binder_and_colab() -> None:
    docs = (ROOT / "docs" / "notebooks.md").read_text()
    for path in NOTEBOOKS:
        binder = f"https://mybinder.org/v2/gh/smnb/smnb/HEAD?urlpath=lab/tree/notebooks/{path.name}"
        colab = (
            f"https://colab.research.google.com/github/smnb/smnb/blob/main/notebooks/{path.name}"
        )
        assert binder in docs, f"docs/notebooks.md lacks the Binder link of {path.name}"
        assert colab in docs, f"docs/notebooks.md lacks the Colab link of {path.name}"
