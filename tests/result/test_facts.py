"""smnb.result.facts: the one outcome and the survived problems, rebuilt from a log.

Expected numbers are worked out by hand from tests/fixtures (see its README).
"""

from __future__ import annotations

from smnb.exceptions import ConnectionLost, ServerError, SessionTimeout
from smnb.result import Result
from tests.support.table_sessions import Session


def test_errors_are_rebuilt_from_the_log() -> None:
    s = Session()
    r = Result(s.recorder)
    assert (r.state, r.error) == ("running", None)
    s.meta(1.0, "Closed", {"code": 1006, "reason": ""})
    lost = r.error
    assert isinstance(lost, ConnectionLost) and lost.code == 1006 and "1006" in str(lost)
    s.meta(1.0, "ClientError", {"error": "SessionTimeout", "message": "no progress in 5 s"})
    timeout = r.error
    assert isinstance(timeout, SessionTimeout) and str(timeout) == "no progress in 5 s"
    explicit = RuntimeError("set by the transport")
    r.error = explicit
    assert r.error is explicit and r.state == "failed"


def test_the_outcome_note_wins_and_problems_never_count() -> None:
    s = Session()
    r = Result(s.recorder)
    problem = {"error": "ProtocolError", "message": "AudioAdded.seq_no must be …", "frame": "{}"}
    s.meta(0.5, "Problem", problem)
    s.recv(1.0, {"message": "EndOfTranscript"})
    s.meta(1.0, "Closed", {"code": 1000, "reason": ""})
    assert (r.state, r.error) == ("completed", None)
    assert r.problems == [{"i": 2, "t": 0.5, **problem}]  # after the builder's 2 records
    s2 = Session()
    err = {"message": "Error", "type": "job_error", "reason": "engine crashed", "code": 4013}
    s2.recv(0.5, err)
    s2.meta(0.6, "Closed", {"code": 4013, "reason": "job_error"})
    s2.meta(0.6, "ClientError", {"error": "ServerError", "message": "server error job_error"})
    failed = Result(s2.recorder).error
    assert isinstance(failed, ServerError) and (failed.type, failed.code) == ("job_error", 4013)
