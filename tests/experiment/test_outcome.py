"""smnb.experiment.outcome: an outcome travels between processes with its log as text."""

from __future__ import annotations

import pickle
from pathlib import Path

from smnb.experiment import OK, SessionOutcome, result_of
from smnb.experiment.plan import plan
from tests.support.sweeps import fake_log


def test_outcomes_pickle_their_log_as_text(clips: list[Path]) -> None:
    spec = plan(clips[:1], [{"max_delay": 1}])[0]
    outcome = SessionOutcome(spec, OK, result=fake_log(spec))
    back = pickle.loads(pickle.dumps(outcome))
    assert back.result is None and back.records_jsonl
    rebuilt = result_of(back)
    assert rebuilt.words["content"].tolist() == outcome.result.words["content"].tolist()
