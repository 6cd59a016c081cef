"""Pure parts of the drift job layer: the live event shape, the baseline cache, shared vocabularies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.engines.drift import Baseline
from jobs.engines.drift.records import EVENT_KINDS as ENGINE_KINDS
from jobs.engines.drift.score import SEVERITY_BANDS
from jobs.tasks.baseline import BaselineCache
from jobs.tasks.drift import LIVE_EVENTS_MAX, live_payload
from models.drift import EVENT_KINDS, SEVERITIES, DriftEvent
from models.graph import Snapshot

T0 = datetime(2024, 4, 19, tzinfo=UTC)


def event(event_id: int, risk: int) -> DriftEvent:
    return DriftEvent(
        id=event_id, tenant_id=1, snapshot_id=7, window_start=T0, signature=f"beacon|a|b|{event_id}|tcp",
        kind="beacon", src="a", dst="b", dst_port=event_id, protocol="tcp", severity="high", risk=risk,
        reasons=[{"feature": "kind"}], evidence={"period_s": 300}, explanation="Beacon a → b", created_at=T0,
    )


def test_models_speak_the_engines_kinds_and_severities() -> None:
    # the models keep every kind ever stored: drift's old beacons (detection's now) and detection's findings
    assert set(ENGINE_KINDS) <= set(EVENT_KINDS) and "beacon" in EVENT_KINDS
    assert (*(name for _, name in SEVERITY_BANDS), "info") == SEVERITIES


def test_live_payload_carries_what_a_timeline_needs_and_caps_the_list() -> None:
    snapshot = Snapshot(id=7, tenant_id=1, window_start=T0, window_end=T0 + timedelta(hours=1), status="ready")
    fresh = [event(i, 99 - i % 90) for i in range(1, LIVE_EVENTS_MAX + 3)]
    payload = live_payload(snapshot, fresh, {"high": len(fresh), "low": 4})
    assert payload["snapshot_id"] == 7 and payload["window_start"] == T0.isoformat()
    assert payload["total"] == len(fresh) + 4 and payload["new"] == len(fresh)
    assert len(payload["events"]) == LIVE_EVENTS_MAX and payload["truncated"] is True
    first = payload["events"][0]
    assert set(first) == {"id", "snapshot_id", "kind", "src", "dst", "dst_port", "protocol", "risk", "severity",
                          "explanation", "status", "created_at", "window_start", "policy_id"}
    small = live_payload(snapshot, fresh[:2], {"high": 2})
    assert small["truncated"] is False and [e["id"] for e in small["events"]] == [1, 2]


def key(window: int) -> tuple[int, int, tuple[tuple[int, tuple[int, int, int]], ...]]:
    return (1, 24, ((window, (1, 2, 3)),))


def test_baseline_cache_keeps_the_most_recently_used() -> None:
    cache = BaselineCache(size=2)
    one, two, three = (Baseline(window_count=n) for n in (1, 2, 3))
    cache.put(key(1), one)
    cache.put(key(2), two)
    assert cache.get(key(1)) is one
    cache.put(key(3), three)
    assert cache.get(key(2)) is None and cache.get(key(1)) is one and cache.get(key(3)) is three
    cache.put(None, one)
    assert cache.get(None) is None
