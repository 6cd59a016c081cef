"""Whitelist entries suppress matching events (kept, not dropped) until they expire."""

from __future__ import annotations

from datetime import timedelta

from jobs.engines.drift import DriftEventRecord, WhitelistEntry, analyze, build_baseline
from jobs.engines.drift.whitelist import endpoint_matches

from .builders import NOW, edge, nodes_of, snapshot

A, B = "shop/a", "shop/b"
PEER = "45.77.23.9"
EDGES = [edge(A, B, 80)]
NEW = [*EDGES, edge(A, PEER, 443), edge(A, B, 22)]


def events(*entries: WhitelistEntry) -> list[DriftEventRecord]:
    past = snapshot(0, nodes_of(EDGES), EDGES)
    current = snapshot(1, nodes_of(NEW, external=[PEER]), NEW)
    return analyze(current, past, build_baseline([past]), whitelist=entries, now=NOW)


def status(found: list[DriftEventRecord]) -> dict[tuple[str, int | None], str]:
    return {(e.dst, e.dst_port): e.status for e in found}


def test_matching_entry_suppresses_and_keeps_the_event() -> None:
    entry = WhitelistEntry(src="shop/*", dst="45.77.*", dst_port=443, expires_at=NOW + timedelta(days=1),
                           reason="CDN health check", entry_id="wl-1")
    found = events(entry)
    assert status(found) == {(PEER, 443): "suppressed", (B, 22): "open"}
    [suppressed] = [e for e in found if e.status == "suppressed"]
    assert suppressed.evidence["whitelist"]["reason"] == "CDN health check"
    assert suppressed.evidence["whitelist"]["entry_id"] == "wl-1"


def test_expired_entry_does_not_suppress() -> None:
    expired = WhitelistEntry(src="*", dst=PEER, expires_at=NOW - timedelta(seconds=1))
    assert status(events(expired)) == {(PEER, 443): "open", (B, 22): "open"}
    assert not WhitelistEntry(expires_at=NOW).active(NOW)


def test_port_and_kind_must_match_when_given() -> None:
    wrong_port = WhitelistEntry(dst=PEER, dst_port=80)
    wrong_kind = WhitelistEntry(dst=B, kind="new_edge")
    right_kind = WhitelistEntry(dst=B, kind="new_port")
    assert status(events(wrong_port, wrong_kind)) == {(PEER, 443): "open", (B, 22): "open"}
    assert status(events(right_kind))[(B, 22)] == "suppressed"


def test_cidr_pattern_matches_addresses() -> None:
    assert endpoint_matches("45.77.0.0/16", PEER)
    assert not endpoint_matches("10.0.0.0/8", PEER)
    assert not endpoint_matches("10.0.0.0/8", "shop/api")
    assert status(events(WhitelistEntry(dst="45.77.0.0/16")))[(PEER, 443)] == "suppressed"


def test_suppression_does_not_change_risk_or_order() -> None:
    plain = events()
    suppressed = events(WhitelistEntry())
    assert {e.status for e in suppressed} == {"suppressed"}
    assert [(e.kind, e.risk) for e in suppressed] == [(e.kind, e.risk) for e in plain]
