"""The baseline cache keys of a drift run look each window's sidecar up once (a store request on a bucket)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.tasks import baseline
from models.graph import Snapshot as SnapshotRow

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def test_overlapping_sets_head_each_window_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[datetime] = []

    def fingerprint(tenant_id: int, start: datetime) -> tuple[int, int] | None:
        asked.append(start)
        return None if start == T0 else (int(start.timestamp()), 1)

    monkeypatch.setattr(baseline, "sidecar_fingerprint", fingerprint)
    rows = [SnapshotRow(tenant_id=1, window_start=T0 + timedelta(hours=h), window_end=T0 + timedelta(hours=h + 1))
            for h in range(25, 0, -1)] + [SnapshotRow(tenant_id=1, window_start=T0, window_end=T0 + timedelta(hours=1))]
    newest, older = baseline.cache_keys(1, 24, rows[:24], rows[1:25])
    assert len(asked) == len(set(asked)) == 25  # 48 window lookups before
    assert newest is not None and [start for start, _ in newest[2]] == sorted(
        int(r.window_start.timestamp()) for r in rows[:24])
    assert older is not None and older != newest
    assert baseline.cache_keys(1, 24, rows[2:26]) == [None]  # a window without a sidecar: not cacheable
