"""What the Jobs and Sources pages say about runs and uploads: the success rate, whether a retry can help, why
records were skipped (issue 21)."""

from __future__ import annotations

import pytest

from jobs.engines.flows.result import explain_skips
from state.jobs import error_label
from state.jobs_control import retry_advice
from state.jobs_metrics import rate_label


def _counts(succeeded: int, failed: int = 0, cancelled: int = 0, lost: int = 0) -> dict[str, int]:
    return {"queued": 3, "running": 1, "retrying": 0, "succeeded": succeeded, "failed": failed,
            "cancelled": cancelled, "lost": lost}


@pytest.mark.parametrize(("counts", "label"), [
    (_counts(498, failed=2), "99.6 % (498 of 500)"),
    (_counts(9_999, failed=1), "99.9 % (9,999 of 10,000)"),
    (_counts(99_999, lost=1), "99.9 % (99,999 of 100,000)"),
    (_counts(12), "100 % (12 of 12)"),
    (_counts(1, failed=2), "33.3 % (1 of 3)"),
    (_counts(0, cancelled=4), "0.0 % (0 of 4)"),
    (_counts(0), "—"),
])
def test_the_success_rate_is_never_rounded_up_to_100(counts: dict[str, int], label: str) -> None:
    assert rate_label(counts) == label


def test_a_permanent_failure_is_not_offered_a_retry_and_says_why() -> None:
    helps, why = retry_advice("failed", "PermanentJobError: file rejected: this is a PNG image")
    assert not helps and "fail the same way" in why


@pytest.mark.parametrize(("status", "error", "words"), [
    ("failed", "transient failure, attempt 3 of 3: OperationalError: gone", "answer again"),
    ("failed", "timed out", "time limit"),
    ("failed", "TypeError: unsupported operand", "unexpected error"),
    ("cancelled", "cancelled by admin@x.test", "Cancelled"),
    ("lost", "", "worker stopped"),
])
def test_a_retry_is_offered_where_it_can_help_with_the_reason(status: str, error: str, words: str) -> None:
    helps, why = retry_advice(status, error)
    assert helps and words in why


@pytest.mark.parametrize("status", ["queued", "running", "retrying", "succeeded"])
def test_no_retry_advice_for_a_run_that_did_not_end_badly(status: str) -> None:
    assert retry_advice(status, "") == (False, "")


def test_skip_reasons_are_explained_with_counts_most_frequent_first() -> None:
    lines = explain_skips({"direction unknown": 3, "reply direction": 1_173, "vpc NODATA": 0, "a new reason": 2})
    assert lines == ["1,173 replies (the request of the same connection already gives the edge)",
                     "3 direction unknown (no TCP flag, reply field, ICMP type or port says which side asked)",
                     "2 a new reason"]


def test_a_permanent_error_reads_as_words_in_the_table() -> None:
    assert error_label("PermanentJobError: file rejected: a PNG image") == "permanent: file rejected: a PNG image"
    assert error_label("TypeError: bad operand") == "TypeError: bad operand"
