"""A brute force that got in: a long, busy session after many short failures."""

from __future__ import annotations

from jobs.engines.detect.campaigns import auth_rows
from jobs.engines.detect.intrusions import find_intrusions

from .builders import SENSOR, Flow, detection
from .test_campaigns import ssh_guesses

ATTACKER = "170.64.237.193"


def session(first: float, *, seconds: float = 7200.0, size: int = 500_000, src: str = ATTACKER) -> Flow:
    return Flow(first, src, SENSOR, 22, bytes=size, duration=seconds)


def test_a_long_session_after_many_failures_is_a_critical_intrusion() -> None:
    [found] = find_intrusions(detection([*ssh_guesses(ATTACKER, SENSOR, 25), session(600.0)]))
    assert (found.kind, found.severity, found.service, found.target) == ("intrusion", "critical", "ssh", SENSOR)
    assert found.facts["failures"] == 25 and found.facts["session_s"] == 7200.0
    assert "got in" in found.explanation and "25 short ssh attempts" in found.explanation


def test_a_neighbour_of_the_guesser_logging_in_is_the_same_actor() -> None:
    [found] = find_intrusions(detection([*ssh_guesses(ATTACKER, SENSOR, 25), session(600.0, src="170.64.237.7")]))
    assert found.facts["session_src"] == "170.64.237.7" and found.actor == "170.64.237.0/24"


def test_a_long_session_without_failures_before_it_is_an_admin() -> None:
    assert find_intrusions(detection([session(600.0), *ssh_guesses(ATTACKER, SENSOR, 25, first=9000.0)])) == []


def test_a_long_but_idle_socket_after_failures_is_no_login() -> None:
    assert find_intrusions(detection([*ssh_guesses(ATTACKER, SENSOR, 25), session(600.0, size=3_000)])) == []


def test_failures_of_earlier_windows_count_until_the_lookback_ends() -> None:
    earlier = auth_rows(detection(ssh_guesses(ATTACKER, SENSOR, 25)))
    assert len(find_intrusions(detection([session(3 * 3600.0)]), earlier)) == 1
    assert find_intrusions(detection([session(2 * 86_400.0)]), earlier) == []
