"""Run a latency/accuracy sweep: every (file × setting × repeat) session, then analyse.

::

    result = smnb.sweep(["a.wav", "b.wav"], max_delay=[0.7, 1, 2, 4], repeats=3, out="runs/md")
    result.summary                          # one row per max_delay
    result.plot_ecdf()

    # in a notebook cell (keeps the kernel's loop free):
    result = await smnb.asweep(files, max_delay=[1, 2], max_delay_mode=["fixed", "flexible"])

Every ``transcription_config`` field is a keyword; a field given a list is swept (lists of
several fields form a grid), a scalar is fixed for every session. Every setting of the grid
is checked before any session runs: a misspelt keyword or a bad value raises
:class:`~smnb.exceptions.ConfigError` naming it. Sessions stream at real-time pace, at most
``concurrency`` at once, in a seeded block-randomised order (:mod:`smnb.experiment.plan`).
With no ``url`` (nor ``SPEECHMATICS_RT_URL``, which counts as one, key or not) and no API
key, the process's embedded local server (the one ``transcribe`` and ``start`` share,
:mod:`smnb.session.embedded`) serves the whole sweep (started once, so model loading is not
charged to one setting); with a key, the SaaS.

A failed session is kept: its row says ``failed`` with the error, its log is kept, and it
is excluded from metrics. Analysis starts only after the last session ends, so metric
work never competes for CPU with sessions still streaming.

**Scaling out.** ``executor=`` takes anything with ``submit(fn, *args)`` returning a
future (``concurrent.futures`` executors, ``dask.distributed.Client``,
``client.get_executor()``…): each session becomes ``submit(run_session_blocking, spec)``.
``run_session=`` takes ``async (SessionSpec) -> SessionOutcome`` for anything else (a Ray
task, a job queue). Workers never receive the API key: they read
``SPEECHMATICS_API_KEY`` from their own environment. See ``docs/experiments.md``; the
sessions themselves are run by :mod:`smnb.experiment.sessions`.

With :mod:`~smnb.experiment.sessions`, the only experiment modules that import asyncio and
the client (``smnb.session``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import functools
import inspect
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeAlias, TypeVar

from smnb.auth import env_rt_url, find_api_key
from smnb.exceptions import AudioError, ConfigError
from smnb.experiment.inputs import (
    RefInput,
    manifest,
    refuse_channel_references,
    resolve_references,
)
from smnb.experiment.outcome import SessionOutcome
from smnb.experiment.plan import (
    DEFAULT_CONFIG,
    SessionSpec,
    as_list,
    grid,
    labels,
    plan,
    slug,
    split_fields,
)
from smnb.experiment.progress import Progress
from smnb.experiment.result import SweepResult
from smnb.experiment.reuse import claim, plan_digest, reusable
from smnb.experiment.sessions import (
    RunSession,
    Submitter,
    endpoint,
    given_endpoint,
    run_all,
    run_session_blocking,
    runner,
    runner_name,
    warmup_id,
    warmups,
)
from smnb.metrics.stats import DEFAULT_RESAMPLES
from smnb.protocol.config import TRANSCRIPTION_FIELDS
from smnb.session.options import SessionOptions
from smnb.session.sync import run_sync

__all__ = [
    "RunSession",
    "SessionOutcome",
    "SessionSpec",
    "SweepResult",
    "asweep",
    "run_session_blocking",
    "sweep",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
Values: TypeAlias = T | Sequence[T]
"""One value (fixed for every session) or a list of values (swept)."""
Config = Mapping[str, Any]
MaxDelayMode = Literal["fixed", "flexible"]
Diarization = Literal["none", "speaker", "channel", "channel_and_speaker"]


def _named_settings(
    fn: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """A keyword the sweep does not have is a ConfigError with a suggestion, not a TypeError."""
    known = [n for n, p in inspect.signature(fn).parameters.items() if p.kind is p.KEYWORD_ONLY]

    @functools.wraps(fn)
    async def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        for name in kwargs:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"unknown sweep setting {name!r}{hint}")
        return await fn(*args, **kwargs)

    return checked


@_named_settings
async def asweep(
    sources: str | Path | Sequence[str | Path],
    *,
    # -- transcription_config fields: a list is swept, a scalar fixed --
    language: Values[str] = "en",
    enable_partials: Values[bool] = True,
    max_delay: Values[float] | None = None,
    max_delay_mode: Values[MaxDelayMode] | None = None,
    diarization: Values[Diarization] | None = None,
    speaker_diarization_config: Values[Config] | None = None,
    channel_diarization_labels: Sequence[Sequence[str]] | None = None,
    conversation_config: Values[Config] | None = None,
    additional_vocab: Sequence[Sequence[str | Config]] | None = None,
    model: Values[str] | None = None,
    operating_point: Values[str] | None = None,
    domain: Values[str] | None = None,
    language_hints: Sequence[Sequence[str]] | None = None,
    output_locale: Values[str] | None = None,
    enable_entities: Values[bool] | None = None,
    punctuation_overrides: Values[Config] | None = None,
    audio_filtering_config: Values[Config] | None = None,
    transcript_filtering_config: Values[Config] | None = None,
    streaming_mode: Values[bool] | None = None,
    ctrl: Values[Config] | None = None,
    config: Config | None = None,
    # -- the sweep --
    references: Sequence[RefInput] | bool | None = None,
    word_timings: Sequence[str | Path | None] | None = None,
    repeats: int = 1,
    concurrency: int = 3,
    seed: int = 0,
    bootstrap_seed: int = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
    out: str | Path | None = None,
    url: str | None = None,
    api_key: str | None = None,
    pace: Literal["realtime", "fast"] = "realtime",
    warmup: bool = True,
    progress: bool = True,
    reuse: bool = False,
    executor: Submitter | None = None,
    run_session: RunSession | None = None,
) -> SweepResult:
    """Run every (file × setting × repeat) session and analyse them.

    Args:
        sources: audio file path(s).
        language … ctrl: ``transcription_config`` fields under their protocol names (see
            :func:`smnb.transcribe`). A list (or tuple, range) is swept, anything else is
            fixed; fields whose value is itself a list (``channel_diarization_labels``,
            ``additional_vocab``, ``language_hints``) are swept as lists of lists, and
            fixed through ``config``.
        config: fixed ``transcription_config`` fields; a field given here and as a keyword
            (other than at its default) is refused.
        references: per-file reference ``.txt`` paths or :class:`~smnb.metrics.Reference`
            objects; default ``<stem>.txt`` beside each file; ``False`` for none.
        word_timings: per-file ``.words.json`` paths; default ``<stem>.words.json``.
        repeats: sessions per (file, setting).
        concurrency: sessions streaming at once.
        seed: run-order seed. ``bootstrap_seed``/``n_resamples``: confidence intervals.
        out: directory for logs, CSVs, plots and the manifest (nothing written if None).
        url, api_key: the endpoint (default ``SPEECHMATICS_RT_URL``, key or not); none of
            them means one embedded local server.
        pace: ``"realtime"`` (latency numbers need it) or ``"fast"``.
        warmup: first run ``concurrency`` untimed sessions at once (the smallest file; kept,
            marked ``warmup``, excluded from metrics), so every recognizer and connection the
            timed sessions use is warm.
        progress: show a progress line: in a notebook one output rewritten in place (saved
            copies keep the final count), elsewhere a tqdm bar on stderr.
        reuse: read back the sweep saved in ``out`` instead of measuring again when it is
            exactly this plan (same audio bytes, references, settings, seeds, endpoint kind
            and smnb version; :mod:`~smnb.experiment.reuse`); otherwise measure as usual,
            replacing the sweep saved there. Without it, an ``out`` whose ``sessions``
            folder is not empty is refused (ConfigError), so two sweeps never mix.
        executor / run_session: hand sessions to another executor (module docstring).

    Raises:
        AudioError: an audio file does not exist (before anything runs).
        ConfigError: an unknown keyword, a bad value in any setting of the grid, a field
            given both as a keyword and in ``config``, no audio file, nothing to sweep over,
            bad sweep arguments, a reference given for a channel-diarized setting or an
            ``out`` holding another sweep's sessions without ``reuse`` (before anything runs).
    """
    keywords = dict(locals())  # exactly the parameters: nothing is assigned before this
    files = as_list(sources)
    if not files:
        raise ConfigError("a sweep needs at least one audio file")
    for f in files:
        if not Path(f).is_file():
            raise AudioError(f"audio file not found: {f}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError("concurrency must be at least 1")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ConfigError("repeats must be at least 1")
    if executor is not None and run_session is not None:
        raise ConfigError("give executor= or run_session=, not both")
    if reuse and out is None:
        raise ConfigError("reuse=True needs out=: the directory the sweep is saved in")
    if config is not None and not isinstance(config, Mapping):
        raise ConfigError(f"config must be a dict of transcription_config fields, not {config!r}")
    given = _given_fields(keywords, config or {})
    twice = sorted(set(given) & set(config or {}))
    if twice:  # one of the two values would be dropped without a word
        raise ConfigError(f"{twice[0]} is given twice: {twice[0]}= and config=")
    try:
        swept, fixed = split_fields(given)
        refs = resolve_references(files, labels(files), references, word_timings)
    except (ValueError, FileNotFoundError) as exc:
        raise ConfigError(str(exc)) from exc
    fixed = {**(config or {}), **fixed}
    settings = grid(swept)
    configs = [{**DEFAULT_CONFIG, **fixed, **setting} for setting in settings]
    refuse_channel_references(files, references, word_timings, configs)
    _check_settings(fixed, settings, url=url, api_key=api_key, pace=pace)
    specs = plan(files, settings, repeats=repeats, seed=seed, base_config=fixed, out=out, pace=pace)
    if url is None:  # the endpoint rule (smnb.auth.env_rt_url): the variable, key or not
        url = env_rt_url()
    target = url if url is not None else ("saas" if find_api_key(api_key) else "local")
    digest = await asyncio.to_thread(
        plan_digest, specs, refs, concurrency=concurrency, warmup=warmup, seed=seed,
        bootstrap_seed=bootstrap_seed, n_resamples=n_resamples, endpoint=target,
        runner=runner_name(executor, run_session),
    )  # fmt: skip
    if reuse and out is not None:
        old = await asyncio.to_thread(reusable, out, digest, specs)
        if old is not None:
            when = old.manifest.get("created", "earlier")
            Progress(len(specs), enabled=progress).reused(
                f"reused the {len(specs)} sessions measured {when} in {out}"
                " (the same plan; reuse=False measures again)"
            )
            return old
    if out is not None:
        own = [s.session_id for s in specs] + [warmup_id(k) for k in range(concurrency)]
        await asyncio.to_thread(claim, out, own, reuse=reuse)

    # A run_session hook gets exactly the url given; the built-in runners get an endpoint.
    endpoint_cm = (
        given_endpoint(url)
        if run_session is not None
        else endpoint(url, api_key, remote=executor is not None, workers=concurrency)
    )
    async with endpoint_cm as (resolved, kind):
        specs = [dataclasses.replace(s, url=resolved) for s in specs]
        run = runner(executor, run_session, api_key)
        info = manifest(
            specs, swept=swept, fixed=fixed, references=refs, seed=seed,
            bootstrap_seed=bootstrap_seed, n_resamples=n_resamples, repeats=repeats,
            concurrency=concurrency, url=resolved, endpoint=kind, pace=pace,
            warmup=warmup, runner=runner_name(executor, run_session),
        )  # fmt: skip
        info["plan_digest"] = digest
        outcomes: list[SessionOutcome] = []
        n_warm = min(concurrency, len(specs)) if warmup else 0
        line = Progress(len(specs), warmups=n_warm, enabled=progress).start()
        if warmup:  # the smallest file is enough to load models and warm connections
            smallest = min(specs, key=lambda s: (Path(s.file).stat().st_size, s.order))
            in_process = executor is None and run_session is None
            outcomes += await warmups(smallest, run, out, n_warm, trim=in_process)
        outcomes += await run_all(specs, run, concurrency, line)
    # Analysis is CPU work: off the event loop, so a notebook stays responsive.
    result = await asyncio.to_thread(
        SweepResult, outcomes, refs, info, seed=bootstrap_seed, n_resamples=n_resamples
    )
    if out is not None:
        await asyncio.to_thread(result.save, out)
    return result


def _blocking(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """The blocking twin of an async entry point: the same parameters, run to the end."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        # Inside a running loop (a Jupyter cell) this runs on a private loop thread.
        return run_sync(functools.partial(fn, *args, **kwargs), name="smnb-sweep")

    return run


sweep = _blocking(asweep)
sweep.__name__ = sweep.__qualname__ = "sweep"
sweep.__doc__ = """Run a sweep and return its :class:`~smnb.experiment.SweepResult` (blocking).

Exactly the parameters of :func:`asweep`. Inside a running event loop (a Jupyter cell)
the sweep runs on a private event-loop thread; ``await asweep(...)`` avoids blocking.
"""


def _given_fields(keywords: Mapping[str, Any], config: Config) -> dict[str, Any]:
    """The transcription_config keywords given: set, and not a default that ``config`` sets."""
    out = {}
    for name in sorted(TRANSCRIPTION_FIELDS):
        value = keywords[name]
        if value is None:
            continue
        if name in DEFAULT_CONFIG and value == DEFAULT_CONFIG[name] and name in config:
            continue  # the signature's default: config's value stands
        out[name] = value
    return out


def _check_settings(
    fixed: Config, settings: Sequence[Config], *, url: Any, api_key: Any, pace: Any
) -> None:
    """Check every setting of the grid (and the options) as its sessions will send it."""
    options = SessionOptions.create(url=url, api_key=api_key, pace=pace)
    for setting in settings:
        try:
            options.replace(**{**DEFAULT_CONFIG, **fixed, **setting})
        except ConfigError as exc:
            where = f"setting {slug(setting)}: " if setting else ""
            raise ConfigError(f"{where}{exc}") from None
