// smnb: a click on an smnb widget button must not select the widget's notebook cell.
//
// Why: in JupyterLab a mousedown inside a cell's output makes that cell the active one,
// so after clicking "▶ Start microphone" (or Stop) the next Shift+Enter silently re-runs
// the widget's own cell, replacing the widget, instead of running the cell the user was
// on. The notebook listens in the capture phase on its own node; a capture listener on
// the window runs before it, so there we stop mousedown/pointerdown on smnb's buttons
// from reaching the notebook and keep the focus where it was. The click itself still
// happens (cancelling a press never cancels the click), and buttons stay reachable with Tab.
function smnbKeepFocus() {
  if (typeof window === "undefined" || window.__smnbKeepFocus) return;
  window.__smnbKeepFocus = true;
  const guard = (event) => {
    const target = event.target;
    if (target instanceof Element && target.closest(".smnb-live button, .smnb-mic button")) {
      event.stopPropagation();
      event.preventDefault();
    }
  };
  window.addEventListener("mousedown", guard, true);
  window.addEventListener("pointerdown", guard, true);
}
