"""Every notebook in notebooks/ runs headlessly, top to bottom, and shows what it says.

Each notebook is executed once per test session with nbclient on the ``python3`` kernel,
without an API key (so against smnb's embedded server), in a temporary working directory,
with widget state stored. Then:

* it printed nothing on stderr, and its code has no ``assert`` (checks live here);
* its key outputs are checked by a function registered for it in ``CHECKS`` (a notebook
  without checks fails, so a new notebook cannot slip in untested): the numbers it shows,
  the files it wrote, and what a saved copy shows of its widgets;
* every numbered section runs on its own after the set-up, in a fresh kernel (in the same
  working directory, so the experiment notebooks reuse the sweep of the full run);
* notebooks in the repository are stripped of outputs, and the Binder files are complete.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from tests.notebooks.cells import (
    assert_clean,
    cell_with,
    displayed,
    live_view,
    text_of,
    widget_states,
    widget_views,
)
from tests.support.notebooks import (
    KERNEL,
    NOTEBOOK_DIR,
    ROOT,
    TIMEOUT,
    execute,
    sections,
    with_cells,
)

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
OWN_TEST = {"05-real-service-vs-local.ipynb": "test_replay_notebook.py"}
"""Notebooks executed and checked by a test file of their own, not by the loop below."""
HEADLESS = [p for p in NOTEBOOKS if p.name not in OWN_TEST]
SAMPLES = ROOT / "smnb" / "samples"
__all__ = ["NOTEBOOK_DIR", "SAMPLES", "TIMEOUT"]  # used by test_replay_notebook.py


def reference_words(name: str) -> list[str]:
    return (SAMPLES / f"{name}.txt").read_text().split()


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def overlap(reference: list[str], text: str) -> float:
    """Share of the reference's distinct words found in ``text``."""
    got = set(words_of(text))
    ref = set(reference)
    return len(ref & got) / len(ref)


# --- per-notebook checks -------------------------------------------------------------


def check_quickstart(nb: Any, cwd: Path) -> None:
    ref = reference_words("librivox-ss01-0870")
    setup = text_of(cell_with(nb, "result = await smnb.atranscribe"))
    assert "embedded local server" in setup
    # The card: counts in the tables' words, the max_delay in force and the flush.
    assert "completed" in setup.lower(), setup[:500]
    card = re.search(
        r"final words: (\d+) \(\+(\d+) punctuation marks?\) in \d+ utterances?;", setup
    )
    assert card, setup
    assert "at max_delay 4 s (not set: the API's default)" in setup
    flushed = re.search(r"(\d+) of (\d+) words came with the end-of-stream flush", setup)
    assert flushed, setup
    said = text_of(cell_with(nb, "errors = score(REFERENCE, result.text)"))
    assert "reference:  and mister john dashwood" in said
    assert re.search(r"word error rate \d\.\d\d: \d+ substituted, \d+ deleted and \d+ inserted, "
                     r"of 22 words", said), said  # fmt: skip
    assert overlap(ref, said.split("recognised:")[1]) >= 0.5, said
    words = text_of(cell_with(nb, "words = result.words.assign("))
    assert "<table" in words and "latency_s" in words and "flushed" in words
    summary = text_of(cell_with(nb, "p50, p95 ="))
    # The same counts as the card, in the same words.
    n_flushed, n_words = flushed.groups()
    marks = int(card.group(2))
    assert card.group(1) == n_words
    assert f"final words: {n_words} (+{marks} punctuation mark{'s' * (marks != 1)})" in summary

    assert f"{n_flushed} of the {n_words} came with the end-of-stream flush" in summary, summary
    assert re.search(r"final latency p50 \d+\.\d\d s, p95 \d+\.\d\d s", summary), summary
    transcripts = text_of(cell_with(nb, "result.transcripts["))
    assert "partial" in transcripts and "final" in transcripts
    utterances = text_of(cell_with(nb, "result.utterances["))
    assert "ended_by" in utterances and "speaker" not in utterances  # empty columns left out
    listing = text_of(cell_with(nb, "result.to_csv("))
    for name in ("words.csv", "partials.csv", "messages.jsonl", "summary.json"):
        assert name in listing
        assert (cwd / "out" / "01-quickstart" / name).is_file()
    rows = int(n_words) + marks
    assert f"rebuilt from messages.jsonl alone: same text True, {rows} rows of words" in listing
    # Rounded times: no table shows more than two decimals of a second.
    for snippet in ("words = result.words.assign(", "result.transcripts[", "result.utterances["):
        plain = displayed(cell_with(nb, snippet))[-1]["text/plain"]
        assert not re.search(r"\d\.\d{3,}", plain), plain


def check_live_and_microphone(nb: Any, cwd: Path) -> None:
    ref = reference_words("librivox-ss01-0870")
    states = widget_states(nb)
    # The live cell returned at once: the next cell saw the session still running.
    during = text_of(cell_with(nb, "print(view.status_text)"))
    assert "done" not in during and "audio sent" in during and "<table" in during, during
    # After the run: the result, and the view showing finals and a finished status.
    assert overlap(ref, text_of(cell_with(nb, "result = await view"))) >= 0.5
    file_view = live_view(nb, states, "view = smnb.live(SAMPLES")
    assert "smnb-final" in file_view["transcript"]
    assert overlap(ref, re.sub(r"<[^>]+>", " ", file_view["transcript"])) >= 0.5
    assert "✓ done" in file_view["status"] and "last final latency" in file_view["status"]
    # Saved state: Stop disabled once done, not an orange button beside "✓ done".
    (stop,) = file_view["buttons"]
    assert stop["disabled"] is True and stop["button_style"] == "", stop
    # What renderings without widgets show: the transcript and status, not VBox(...).
    assert "VBox" not in file_view["snapshot_text"] and "✓ done" in file_view["snapshot_text"]
    assert "smnb-final" in file_view["snapshot_html"] and "✓ done" in file_view["snapshot_html"]
    # Diarization: labels in the view, speakers in the table.
    diarized = live_view(nb, states, "speakers = smnb.live(")
    assert 'class="smnb-label">S1:</b>' in diarized["transcript"]
    assert 'class="smnb-label">S2:</b>' in diarized["transcript"]
    assert "S2" in text_of(cell_with(nb, "speakers_result.utterances"))
    # Browser mic: the anywidget is shown above the transcript; headless, nothing
    # arrives, and the notebook says why instead of hanging.
    mic_view = live_view(nb, states, "mic = smnb.widgets.BrowserMic()")
    mics = [m for m in mic_view["anywidgets"] if "smnb-pcm" in m["_esm"]]
    assert len(mics) == 1 and mics[0]["sample_rate"] == 16000 and mics[0]["chunk_ms"] == 100
    waited = text_of(cell_with(nb, "await mic.wait_for_audio"))
    assert "No audio from the browser microphone yet" in waited and "headless run" in waited
    assert "waiting for audio" in text_of(cell_with(nb, "print(mic_view.status_text)"))
    # The microphone's session still waits for audio: in the saved state its Start is enabled
    # (no session has ended) and so is its Stop, and the snapshot says it is waiting.
    assert mics[0]["ended"] is False
    (mic_stop,) = mic_view["buttons"]
    assert mic_stop["disabled"] is False and mic_stop["button_style"] == "warning", mic_stop
    assert "waiting for audio" in mic_view["snapshot_text"]
    # Local mic: a clear DeviceError message where there is none, a live view otherwise.
    local = cell_with(nb, "Microphone(max_seconds=15)")
    assert "Skipping the local microphone: no microphone" in text_of(local) or widget_views(
        local
    ), text_of(local)
    # The wrap-up cell found every view shown, whichever sections ran, and re-sent them.
    assert text_of(cell_with(nb, "shown.refresh()")).count("audio sent") == 3


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
    # 03 and 04 are the experiment notebooks; their checks read the sweep directories.
    **_load("experiment_checks", Path(__file__).with_name("experiment_checks.py")).CHECKS,
}


# --- the tests -------------------------------------------------------------------------


@dataclass
class Run:
    nb: Any
    cwd: Path
    seconds: float


_RUNS: dict[str, Run] = {}


@pytest.fixture(scope="session")
def kernel() -> str:
    """The ``python3`` kernelspec, installed into this Python's prefix if missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix"], check=True)
    return KERNEL


@pytest.fixture(scope="session")
def executed(kernel: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Run]:
    """The notebook run top to bottom, once per test session (its checks and its sections
    share the run: the experiment notebooks' sections reuse its sweep)."""

    def run(path: Path) -> Run:
        if path.name not in _RUNS:
            cwd = tmp_path_factory.mktemp(path.stem)
            nb = nbformat.read(path, as_version=4)
            _RUNS[path.name] = Run(nb, cwd, execute(nb, cwd, kernel))
        return _RUNS[path.name]

    return run


def test_there_are_notebooks() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"01-quickstart.ipynb", "02-live-and-microphone.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_have_no_assert_statements(path: Path) -> None:
    # Checks belong in tests (here), not in cells a reader has to read past.
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = TransformerManager().transform_cell(cell.source)  # %pip etc. as Python
        asserts = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Assert)]
        assert not asserts, f"{path.name}: an assert in {cell.source[:60]!r}"


@pytest.mark.slow
@pytest.mark.parametrize("path", HEADLESS, ids=[p.stem for p in HEADLESS])
def test_notebook_runs_headless(path: Path, executed: Callable[[Path], Run]) -> None:
    check = CHECKS.get(path.name)
    assert check is not None, f"add output checks for {path.name} to CHECKS in {__file__}"
    run = executed(path)
    print(f"{path.name}: {run.seconds:.1f} s")  # measured, never asserted (shared machine)
    assert_clean(run.nb)
    check(run.nb, run.cwd)


@pytest.mark.slow
@pytest.mark.parametrize("path", HEADLESS, ids=[p.stem for p in HEADLESS])
def test_every_section_runs_on_its_own_after_the_setup(
    path: Path, executed: Callable[[Path], Run], kernel: str
) -> None:
    run = executed(path)
    setup, parts = sections(nbformat.read(path, as_version=4))
    assert len(parts) >= 3, f"{path.name}: expected numbered sections (## 1. …)"
    for heading, cells in parts:
        alone = with_cells(run.nb, [*setup, *cells])
        execute(alone, run.cwd, kernel)  # a fresh kernel: nothing from the other sections
        try:
            assert_clean(alone)
        except AssertionError as exc:
            raise AssertionError(f"{path.name}, {heading!r} after the set-up: {exc}") from None


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
    entries = [line.split("#")[0].strip() for line in requirements]
    entries = [e for e in entries if e]
    assert entries[-1] == "."  # smnb itself, after everything it needs, pinned
    # A lock: every other line pins one exact version, and smnb's runtime dependencies
    # and JupyterLab are all among them (so no rebuild picks a newer numpy or pandas).
    pins = dict(e.split("==") for e in entries[:-1])
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[A-Za-z0-9_.+!-]+", e) for e in entries[:-1])
    pinned = {re.sub(r"[-_.]+", "-", name).lower() for name in pins}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0] for d in project["dependencies"]]
    missing = {re.sub(r"[-_.]+", "-", w).lower() for w in [*wanted, "jupyterlab"]} - pinned
    assert not missing, f"binder/requirements.txt does not pin {sorted(missing)}"
    runtime = (binder / "runtime.txt").read_text()
    assert re.fullmatch(r"python-3\.1[12]\n?", runtime)
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


def test_notebooks_link_reading_the_numbers() -> None:
    page = ROOT / "docs" / "reading-the-numbers.md"
    assert page.is_file()
    assert "docs/reading-the-numbers.md" in (ROOT / "README.md").read_text()
    for path in HEADLESS:
        intro = nbformat.read(path, as_version=4).cells[0].source
        assert "(../docs/reading-the-numbers.md)" in intro, path.name
