"""SweepResult: every session of a sweep, analysed, summarised, plottable and saved.

Built from session outcomes right after a sweep (:meth:`SweepResult.build`) or from a
sweep directory months later (:meth:`SweepResult.load`): both run the same pure metric
code on the same ``messages.jsonl`` logs and stored references, so they agree.

Directory layout written by :meth:`SweepResult.save`::

    DIR/manifest.json          settings, seeds, audio sha256, versions, normaliser, url,
                               ``sessions``: the ids of this sweep's sessions (what load reads)
    DIR/summary.csv            one row per setting
    DIR/latency.csv            one row per word per session
    DIR/sessions.csv           one row per session (failed and warm-up included)
    DIR/displayed_wer.csv      displayed-text WER per setting and lag
    DIR/eou.csv                end-of-utterance latencies
    DIR/*.png                  latency_ecdf, latency_box, tradeoff, timeline, displayed_wer
    DIR/references/<label>.json
    DIR/sessions/<session_id>/messages.jsonl, spec.json

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from smnb import plots
from smnb.experiment import cells
from smnb.experiment.outcome import FAILED, OK, SessionOutcome, result_of
from smnb.experiment.plan import SessionSpec
from smnb.metrics import summary as summ
from smnb.metrics.reference import Reference
from smnb.metrics.session import SessionMetrics, analyse
from smnb.metrics.stats import DEFAULT_RESAMPLES
from smnb.protocol.config import CHANNEL_MODES
from smnb.recorder import LOG_NAME, write_jsonl

PLOTS = ("latency_ecdf", "latency_box", "tradeoff", "timeline", "displayed_wer")


class SweepResult:
    """The analysed sessions of one sweep.

    Attributes:
        summary: one row per setting (``max_delay`` plus the swept fields).
        latency: one row per word per session.
        sessions: one row per session: spec, status, error and per-session metrics.
        displayed: pooled displayed-text WER per setting and lag.
        eou: end-of-utterance latencies.
        results: session id → :class:`smnb.result.Result` (the raw logs).
        metrics: session id → :class:`smnb.metrics.SessionMetrics`.
        manifest: what was run, with which versions (see ``docs/experiments.md``).
        by: the setting columns the summary is grouped by.
    """

    def __init__(
        self,
        outcomes: Sequence[SessionOutcome],
        references: Mapping[str, Reference | None],
        manifest: Mapping[str, Any],
        *,
        seed: int = 0,
        n_resamples: int = DEFAULT_RESAMPLES,
    ) -> None:
        self.outcomes = list(outcomes)
        self.reused_from: Path | None = None
        """The directory this result was reused from (``asweep(..., reuse=True)``), if any."""
        self.references = dict(references)
        self.manifest = dict(manifest)
        swept = list(self.manifest.get("swept", {}))
        self.by = ["max_delay", *[k for k in swept if k != "max_delay"]]
        self.results: dict[str, Any] = {}
        self.metrics: dict[str, SessionMetrics] = {}
        entries: list[summ.Entry] = []
        for outcome in self.outcomes:
            spec = outcome.spec
            result = result_of(outcome)
            metrics = None
            if result is not None:
                self.results[spec.session_id] = result
                if result.recorder.records:
                    metrics = analyse(result, self._reference(spec))
                    self.metrics[spec.session_id] = metrics
            entries.append((self._info(outcome), metrics))
        # Warm-ups (negative order) never count, even when one failed.
        timed = [e for e in entries if e[0]["order"] >= 0]
        self.tables = summ.tabulate(timed, self.by)
        warm = [e for e in entries if e[0]["order"] < 0]
        sessions = summ.tabulate(warm + timed, self.by).sessions if warm else self.tables.sessions
        self.sessions = sessions
        self.latency = self.tables.latency
        self.eou = self.tables.eou
        self.summary = summ.summarise(self.tables, self.by, seed=seed, n_resamples=n_resamples)
        self.displayed = summ.displayed_wer(self.tables, self.by)

    def _reference(self, spec: SessionSpec) -> Reference | None:
        """The file's reference; none for a channel-diarized session, which it cannot score
        (the sweep refused one given explicitly: this is a discovered ``<stem>.txt``)."""
        if spec.config.get("diarization") in CHANNEL_MODES:
            return None
        return self.references.get(spec.label)

    def _info(self, outcome: SessionOutcome) -> dict[str, Any]:
        spec = outcome.spec
        info: dict[str, Any] = {
            "session_id": spec.session_id,
            "order": spec.order,
            "file": spec.label,
            "repeat": spec.repeat,
            "status": outcome.status,
            "error": outcome.error,
            "max_delay": _float(spec.config.get("max_delay")),
        }
        info.update({k: v for k, v in spec.settings.items() if k != "max_delay"})
        info["path"] = spec.file
        return info

    # --- plots ------------------------------------------------------------------

    def plot_ecdf(self, ax: Any = None, **kwargs: Any) -> Any:
        """:func:`smnb.plots.latency_ecdf` of this sweep (needs measured latency)."""
        self._need_latency()
        return plots.latency_ecdf(self.latency, by=self.by, ax=ax, **kwargs)

    def plot_box(self, ax: Any = None) -> Any:
        """:func:`smnb.plots.latency_box` of this sweep (needs measured latency)."""
        self._need_latency()
        return plots.latency_box(self.latency, by=self.by, ax=ax)

    def _need_latency(self) -> None:
        if not self.timed:
            pace = self.manifest.get("pace", "realtime")
            raise ValueError(f"no latency to draw: no session measured any (pace {pace})")

    def plot_tradeoff(self, ax: Any = None, **kwargs: Any) -> Any:
        """:func:`smnb.plots.tradeoff` of this sweep (needs references).

        Without measured latency (``pace="fast"``) WER is drawn against the swept setting
        (:attr:`tradeoff_setting`).
        """
        if not self.timed:
            x = self.tradeoff_setting
            if x is None:
                raise ValueError("no trade-off to draw: no latency measured and no setting swept")
            kwargs = {"x": x, "whisker": None, **kwargs}
        return plots.tradeoff(self.summary, by=self.by, ax=ax, **kwargs)

    @property
    def tradeoff_setting(self) -> str | None:
        """The first setting column that takes more than one value (None if none does)."""
        varied = [k for k in self.by if self.summary[k].nunique(dropna=False) > 1]
        return varied[0] if varied else None

    def plot_timeline(self, session_id: str | None = None, ax: Any = None, **kwargs: Any) -> Any:
        """:func:`smnb.plots.timeline` of one session (default: the first successful one)."""
        sid = session_id or self.first_ok()
        if sid is None:
            raise ValueError("no successful session to draw")
        return plots.timeline(self.metrics[sid], ax=ax, **kwargs)

    def plot_displayed_wer(self, ax: Any = None) -> Any:
        """:func:`smnb.plots.displayed_wer` of this sweep (needs references)."""
        final = self.summary if self.has_references else None
        return plots.displayed_wer(self.displayed, by=self.by, final=final, ax=ax)

    def first_ok(self) -> str | None:
        """The id of the first successful session in run order with final words, if any."""
        for outcome in self.outcomes:
            sid = outcome.spec.session_id
            tracks = self.metrics[sid].tracks if sid in self.metrics else []
            if outcome.status == OK and tracks and tracks[0].finals:
                return sid
        return None

    @property
    def timed(self) -> bool:
        """True when latency was measured (some session streamed at real-time pace)."""
        return "final_p50" in self.summary and bool(self.summary["final_p50"].notna().any())

    @property
    def has_references(self) -> bool:
        """True when at least one setting has a WER."""
        return "wer" in self.summary and bool(self.summary["wer"].notna().any())

    # --- saving and loading -------------------------------------------------------

    def save(self, out: str | Path, *, plots_too: bool = True) -> Path:
        """Write the tables, manifest, references, per-session specs and plots to ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.summary.to_csv(out / "summary.csv", index=False)
        self.latency.to_csv(out / "latency.csv", index=False)
        self.sessions.to_csv(out / "sessions.csv", index=False)
        self.displayed.to_csv(out / "displayed_wer.csv", index=False)
        self.eou.to_csv(out / "eou.csv", index=False)
        refs = out / "references"
        refs.mkdir(exist_ok=True)
        for label, ref in self.references.items():
            if ref is not None:
                _write_json(refs / f"{label}.json", ref.to_json())
        for outcome in self.outcomes:
            self._save_session(out, outcome)
        # The session list makes the directory self-describing: load() reads exactly these,
        # never whatever else happens to sit in out/sessions.
        ids = [o.spec.session_id for o in self.outcomes]
        _write_json(out / "manifest.json", {**self.manifest, "sessions": ids})
        if plots_too:
            self.save_plots(out)
        return out

    def _save_session(self, out: Path, outcome: SessionOutcome) -> None:
        spec = outcome.spec
        folder = out / "sessions" / spec.session_id
        folder.mkdir(parents=True, exist_ok=True)
        info = {**spec.to_json(), "status": outcome.status, "error": outcome.error}
        _write_json(folder / "spec.json", info)
        log = folder / LOG_NAME
        result = self.results.get(spec.session_id)
        if result is not None and not log.is_file():
            write_jsonl(result.recorder.snapshot(), log)

    def save_plots(self, out: str | Path) -> list[Path]:
        """Write each plot that has data as ``<name>.png``; returns the files written.

        Uses bare :class:`~matplotlib.figure.Figure` objects, not pyplot: safe off the main
        thread and never leaks a figure into a notebook's output.
        """
        from matplotlib.figure import Figure

        out = Path(out)
        timed = self.timed  # no latency plots for a sweep that measured none
        drawers = {
            "latency_ecdf": self.plot_ecdf if timed else None,
            "latency_box": self.plot_box if timed else None,
            "tradeoff": self.plot_tradeoff
            if self.has_references and (timed or self.tradeoff_setting)
            else None,
            "timeline": self.plot_timeline if timed and self.first_ok() else None,
            "displayed_wer": self.plot_displayed_wer if len(self.displayed) else None,
        }
        written = []
        for name, draw in drawers.items():
            if draw is None:
                continue
            fig = Figure(figsize=(7, 4.5))
            draw(ax=fig.subplots())
            fig.tight_layout()
            fig.savefig(out / f"{name}.png", dpi=110)
            written.append(out / f"{name}.png")
        return written

    @classmethod
    def load(
        cls, path: str | Path, *, seed: int | None = None, n_resamples: int | None = None
    ) -> SweepResult:
        """Recompute everything from a sweep directory's logs, specs and references.

        Only the sessions the sweep saved are read (:func:`listed_sessions`), so stray
        folders in ``sessions/`` never mix in.
        """
        path = Path(path)
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        references: dict[str, Reference | None] = {}
        for ref_file in sorted((path / "references").glob("*.json")):
            obj = json.loads(ref_file.read_text(encoding="utf-8"))
            references[ref_file.stem] = Reference.from_json(obj)
        listed = listed_sessions(path, manifest)
        if listed is None:
            raise ValueError(f"{path}: neither manifest.json nor sessions.csv lists the sessions")
        outcomes = []
        for sid in listed:
            spec_file = path / "sessions" / sid / "spec.json"
            info = json.loads(spec_file.read_text(encoding="utf-8"))
            status, error = info.pop("status", OK), info.pop("error", None)
            spec = SessionSpec.from_json(info)
            # The directory may have moved since the sweep: read the log where it is now.
            spec = SessionSpec(**{**spec.to_json(), "out_dir": str(spec_file.parent)})
            outcomes.append(SessionOutcome(spec, status, error))
        outcomes.sort(key=lambda o: (o.spec.order >= 0, abs(o.spec.order)))  # warm-ups first
        stats = manifest.get("statistics", {})
        return cls(
            outcomes,
            references,
            manifest,
            seed=stats.get("bootstrap_seed", 0) if seed is None else seed,
            n_resamples=stats.get("n_resamples", DEFAULT_RESAMPLES)
            if n_resamples is None
            else n_resamples,
        )

    # --- display ------------------------------------------------------------------

    def headline(self) -> str:
        """One line: measured sessions (warm-ups apart), files, settings, pace."""
        measured = [o for o in self.outcomes if o.spec.order >= 0]
        warm = len(self.outcomes) - len(measured)
        failed = sum(o.status == FAILED for o in measured)
        files = len({o.spec.label for o in measured})
        parts = [f"{len(measured)} measured sessions"]
        extra = [f"+{warm} untimed warm-ups, not counted"] if warm else []
        extra.append(f"{failed} failed")
        parts[0] += f" ({'; '.join(extra)})"
        parts.append(f"{files} files × {len(self.summary)} settings")
        swept = self.manifest.get("swept", {})
        if "max_delay" in swept:
            values = ", ".join(cells.setting(v) for v in swept["max_delay"])
            parts.append(f"max_delay {values} s")
        parts.append(f"pace {self.manifest.get('pace', 'realtime')}")
        if self.reused_from:
            parts.append(f"reused: measured {self.manifest.get('created', '?')}")
        return " · ".join(parts)

    def display_table(self) -> pd.DataFrame:
        """The summary in a few columns with units, rounded (``summary`` has them all)."""
        s = self.summary
        out = pd.DataFrame(index=s.index)
        for key in self.by:
            out[f"{key} (s)" if key == "max_delay" else key] = s[key].map(cells.setting)
        out["sessions"] = s["n_sessions"]
        if (s["n_failed"] > 0).any():
            out["failed"] = s["n_failed"]
        if self.timed:
            out["words"] = s["n_words"]
            for col, name in (("final_p50", "final p50"), ("final_p95", "final p95")):
                out[f"{name} (s)"] = s[col].map(cells.seconds)
            if "partial_p50" in s and s["partial_p50"].notna().any():
                out["partial p50 (s)"] = s["partial_p50"].map(cells.seconds)
            if "flushed_share" in s:
                out["flushed"] = s["flushed_share"].map(cells.share)
        if self.has_references:
            out["ref words"] = s["n_ref_words"].map(cells.count)
            out["WER"] = s["wer"].map(lambda v: cells.number(v, 3))
            out["WER 95% CI"] = [
                cells.interval(low, high)
                for low, high in zip(s["wer_ci_low"], s["wer_ci_high"], strict=True)
            ]
        return out

    def __repr__(self) -> str:
        return f"<SweepResult: {self.headline()}>\n{self.display_table().to_string(index=False)}"

    def _repr_html_(self) -> str:
        notes = []
        if self.timed:
            notes.append(
                "latency: seconds from the end of each word to its final (p50, p95) or first "
                "partial; <i>flushed</i>: share of words finalised only because the audio ended"
            )
        if self.has_references:
            notes.append("WER pooled over every word of a setting; 95% CI resampling files")
        notes.append("<code>.summary</code> has every column")
        return (
            "<div class='smnb-sweep'>"
            f"<div><b>SweepResult</b> · {html.escape(self.headline())}</div>"
            + self.display_table().to_html(index=False)
            + f"<div style='font-size:0.85em;color:#555'>{'; '.join(notes)}.</div></div>"
        )


def listed_sessions(path: str | Path, manifest: Any = None) -> list[str] | None:
    """The session ids a saved sweep lists; None when ``path`` holds no saved sweep.

    The manifest's ``sessions``; for a directory saved before the manifest had them, the
    ``session_id`` column of ``sessions.csv``.
    """
    path = Path(path)
    if manifest is None:
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    ids = manifest.get("sessions") if isinstance(manifest, dict) else None
    if isinstance(ids, list) and all(isinstance(i, str) for i in ids):
        return list(ids)
    try:
        table = pd.read_csv(path / "sessions.csv", dtype={"session_id": str})
    except (OSError, ValueError):
        return None
    if "session_id" not in table:
        return None
    return [str(i) for i in table["session_id"]]


def _float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.nan


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, default=str) + "\n", encoding="utf-8")
