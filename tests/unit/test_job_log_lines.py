"""A run that did not succeed says why in the worker's log, not only in its database row: an operator reading the
log of a cluster sees what a retry was for (a cluster test's stuck window showed only "retrying in 5.3 s")."""

from __future__ import annotations

import logging

import pytest

from jobs.runtime.jobwrap import job_ended


def test_a_retried_run_logs_its_error_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="secureguard.jobs"):
        job_ended("build_snapshot", "arq:bulk", "retrying", 5.3, error="transient failure, attempt 1 of 3: TimeoutError")
        job_ended("ping", "arq:interactive", "succeeded", 0.01, {"pong": True})
    retried, done = caplog.records[-2:]
    assert retried.levelno == logging.WARNING and retried.getMessage().endswith("attempt 1 of 3: TimeoutError")
    assert retried.__dict__["error"] == "transient failure, attempt 1 of 3: TimeoutError"
    assert done.levelno == logging.INFO and done.getMessage() == "job ping succeeded in 0.010 s"
