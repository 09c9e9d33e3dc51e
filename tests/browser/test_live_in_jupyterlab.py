"""Notebook 02 in a real browser: JupyterLab + Debian's Chromium, driven by Playwright.

One JupyterLab server and one Chromium for the whole module. Chromium runs with
a fake capture device that plays a sample WAV as its microphone. The notebook
is run with "Run All"; then:

1. the file's live view shows partial text that changes, then final text and a
   finished status;
2. clicking ▶ Start microphone streams the fake microphone through the
   AudioWorklet and widget comm into the kernel, where the session transcribes
   it: the words of that speech arrive in the kernel (checked by executing code
   in the notebook's own kernel) and in the view.

Uses /usr/bin/chromium (no ``playwright install``). Screenshots go to
``artifacts/browser/``. The JupyterLab settings are the defaults (comms over
subshells on, as on Binder), except the news pop-up.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "02-live-and-microphone.ipynb"
SAMPLE = ROOT / "smnb" / "samples" / "librivox-ss01-0870"
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",  # grant the microphone without a prompt
    "--use-fake-device-for-media-stream",
]
PAD_SECONDS = 1.5  # silence after the speech, so the loop of the fake device does not cut a word


def reference() -> list[str]:
    return SAMPLE.with_suffix(".txt").read_text().split()


def overlap(text: str) -> float:
    got = set(re.findall(r"[a-z']+", text.lower()))
    ref = set(reference())
    return len(ref & got) / len(ref)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """JupyterLab on 127.0.0.1 serving a copy of notebook 02."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    settings = base / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    token = secrets.token_hex(16)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SPEECHMATICS_API_KEY"}
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
    )
    log = (base / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            f"--port={port}", "--ip=127.0.0.1", f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"JupyterLab did not start; see {base / 'lab.log'}")
            time.sleep(0.25)
    try:
        yield {"url": url, "token": token, "runtime": base / "runtime", "log": base / "lab.log"}
    finally:
        proc.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def fake_mic_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with trailing silence, as Chromium's fake capture file."""
    audio, rate = soundfile.read(SAMPLE.with_suffix(".wav"), dtype="int16")
    padded = np.concatenate([audio, np.zeros(int(PAD_SECONDS * rate), dtype=np.int16)])
    path = tmp_path_factory.mktemp("mic") / "speech.wav"
    soundfile.write(path, padded, rate, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def page(
    lab: dict[str, Any], fake_mic_wav: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Notebook 02 open in Chromium, "Run All" started."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (the browser tests need it)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            viewport={"width": 1280, "height": 1000},
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-audio-capture={fake_mic_wav}"],
        )
        try:
            pg = context.pages[0] if context.pages else context.new_page()
            pg.set_default_timeout(60_000)
            pg.goto(f"{lab['url']}/lab/tree/{NOTEBOOK.name}?reset&token={lab['token']}")
            pg.wait_for_function(
                "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session"
                "?.kernel?.status === 'idle'",
                timeout=90_000,
            )
            # Not awaited: the command's promise settles only when every cell has run.
            pg.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            yield pg
        finally:
            context.close()


def kernel_eval(lab: dict[str, Any], code: str, timeout: float = 30) -> str:
    """Run ``code`` in the notebook's own kernel (as a second client) and return its stdout."""
    from jupyter_client import BlockingKernelClient

    with urllib.request.urlopen(f"{lab['url']}/api/sessions?token={lab['token']}") as r:
        sessions = json.load(r)
    assert len(sessions) == 1, sessions
    kernel_id = sessions[0]["kernel"]["id"]
    client = BlockingKernelClient(connection_file=str(lab["runtime"] / f"kernel-{kernel_id}.json"))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        out: list[str] = []

        def keep(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        reply = client.execute_interactive(code, timeout=timeout, output_hook=keep)
        assert reply["content"]["status"] == "ok", "".join(out)
        return "".join(out)
    finally:
        client.stop_channels()


def poll(fn: Any, until: Any, timeout: float, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    value = fn()
    while not until(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s; last value: {value!r}")
        time.sleep(every)
        value = fn()
    return value


# --- the tests ---------------------------------------------------------------------------

ACTIVE_CELL = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
ALL_RAN = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const prompts = [...panel.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    return panel.sessionContext.session.kernel.status === 'idle'
        && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""
PROMPTS = """() => window.jupyterapp.shell.currentWidget.content.widgets.map(
    cell => cell.model.type === 'code' ? String(cell.model.executionCount) : '')"""
CELL_OF = """selector => window.jupyterapp.shell.currentWidget.content.widgets.findIndex(
    cell => cell.node.querySelector(selector) !== null)"""

READ_PARTIAL = """view => {
    const e = view.querySelector('.smnb-partial');
    return e ? [e.textContent || '', getComputedStyle(e).color] : ['', ''];
}"""


def test_live_view_shows_partials_changing_then_finals(page: Any, lab: dict[str, Any]) -> None:
    view = page.locator(".jp-OutputArea-output .smnb-live").first
    view.wait_for(timeout=90_000)
    seen: list[str] = []
    colors: set[str] = set()
    shot = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # Read text and colour in one step inside the page: the view re-renders, so a
        # partial counted a moment ago may be gone before a second query reaches it.
        text, color = view.evaluate(READ_PARTIAL)
        text = text.strip()
        if text and (not seen or seen[-1] != text):
            seen.append(text)
            colors.add(color)
            if not shot and view.locator(".smnb-final").count():
                # Mid-stream, finals and a grey partial together.
                view.screenshot(path=str(ARTIFACTS / "live-view-streaming.png"))
                shot = True
        if "done" in (view.locator(".smnb-status").text_content() or ""):
            break
        time.sleep(0.1)
    view.scroll_into_view_if_needed()
    view.screenshot(path=str(ARTIFACTS / "live-view.png"))
    assert len(set(seen)) >= 3, f"the grey partial should change while streaming: {seen}"
    final = view.locator(".smnb-final").all_text_contents()
    assert overlap(" ".join(final)) >= 0.5, final
    status = view.locator(".smnb-status").text_content() or ""
    assert "✓ done" in status and "last final latency" in status, status
    # Nothing left to stop: the view's Stop button is disabled once the session is done.
    assert view.locator("button.widget-button").first.is_disabled()
    # The partial is grey, the final is not.
    assert colors == {"rgb(138, 138, 138)"}, colors
    final_color = view.locator(".smnb-final").first.evaluate("e => getComputedStyle(e).color")
    assert final_color != "rgb(138, 138, 138)"
    # What the browser shows is what the kernel has.
    text = kernel_eval(lab, "print(result.text)")
    assert overlap(text) >= 0.5, text


def test_browser_mic_streams_the_fake_microphone_into_the_kernel(
    page: Any, lab: dict[str, Any]
) -> None:
    button = page.locator(".jp-OutputArea-output .smnb-mic-button")
    button.wait_for(timeout=120_000)  # after the file and diarization sections have run
    mic_view = page.locator(".jp-OutputArea-output .smnb-live").filter(
        has=page.locator(".smnb-mic-button")
    )
    # Let "Run All" finish (the microphone's session keeps waiting for audio), then work as
    # a user would: the notebook has the focus, its last cell is the active one.
    poll(lambda: page.evaluate(ALL_RAN), bool, timeout=180)
    page.evaluate("() => window.jupyterapp.shell.currentWidget.content.node.focus()")
    active = page.evaluate(ACTIVE_CELL)
    mic_cell = page.evaluate(CELL_OF, ".smnb-mic-button")
    prompts = page.evaluate(PROMPTS)
    assert mic_cell != active and not button.is_disabled()
    button.click()
    page.locator(".smnb-mic-status[data-state=recording]").wait_for(timeout=20_000)
    # The click did not select the microphone's cell, so Shift+Enter runs the active cell
    # (the wrap-up: its prompt number moves) and never re-runs the microphone's cell.
    assert page.evaluate(ACTIVE_CELL) == active
    page.keyboard.press("Shift+Enter")
    poll(lambda: page.evaluate(PROMPTS)[active], lambda p: p != prompts[active], timeout=30)
    assert page.evaluate(PROMPTS)[mic_cell] == prompts[mic_cell]
    assert button.text_content() == "■ Stop microphone"
    # Let the whole clip (and its trailing silence) through, then stop in the widget.
    speech = soundfile.info(str(SAMPLE.with_suffix(".wav"))).duration + PAD_SECONDS
    status = mic_view.locator(".smnb-status")

    def status_text() -> str:
        return status.text_content() or ""

    def sent() -> float:
        m = re.search(r"([\d.]+) s audio sent", status_text())
        return float(m.group(1)) if m else 0.0

    poll(sent, lambda s: s >= speech - 0.2, timeout=speech + 30)
    mic_view.scroll_into_view_if_needed()
    mic_view.screenshot(path=str(ARTIFACTS / "browser-mic-recording.png"))
    button.click()  # ■ Stop microphone: flush, EndOfStream, wait for every final
    poll(status_text, lambda s: "done" in s or "error" in s, timeout=60)
    mic_view.scroll_into_view_if_needed()
    mic_view.screenshot(path=str(ARTIFACTS / "browser-mic-done.png"))
    assert "✓ done" in status_text(), status_text()
    # The session has ended: ▶ Start is disabled (this widget has no session left to feed)
    # and so is the view's Stop.
    poll(button.is_disabled, bool, timeout=10)
    assert button.text_content() == "▶ Start microphone"
    assert mic_view.locator("button.widget-button").first.is_disabled()
    # In the kernel: audio arrived without gaps and the speech was transcribed.
    report = kernel_eval(
        lab,
        "print(mic.chunks_received, mic.gaps, mic.native_rate, round(mic.seconds_received, 2),"
        " mic_view.result.completed)\nprint(mic_view.result.text)",
    )
    counts, text = report.split("\n", 1)
    chunks, gaps, native, seconds, completed = counts.split()
    assert int(chunks) >= 10 * (speech - 0.2) and gaps == "0", counts
    assert float(seconds) >= speech - 0.2, counts
    assert native not in ("None", "0") and completed == "True", counts
    assert overlap(text) >= 0.5, f"kernel transcript {text!r} vs reference {reference()}"
    shown = " ".join(mic_view.locator(".smnb-final").all_text_contents())
    assert overlap(shown) >= 0.5, shown
