"""Migration 0005 (notifications) on a database that already has an integration row: up keeps it with neutral
values and matches the models; the outbox's idempotency key is unique; down keeps the integration, drops the outbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import migrate
from tests.conftest import create_database, drop_database
from tests.integration.test_migrations import _insert, _schema_differences, _tables

pytestmark = pytest.mark.integration

TENANT = "INSERT INTO tenant (id, name, settings, created_at) VALUES (1, 't', '{}', '2026-01-05 10:00:00+00')"
INTEGRATION_0001 = (
    "INSERT INTO integration (tenant_id, kind, name, config_encrypted, min_severity, enabled, "
    "created_at) VALUES (1, 'slack', 'ops', 'sealed', 'high', true, '2026-01-05 10:00:00+00')"
)
DELIVERY = (
    "INSERT INTO notification_delivery (tenant_id, integration_id, idempotency_key, kind, status, severity, "
    "events, attempts, next_attempt_at, last_error, external_ref, created_at) VALUES (1, 1, 'k-1', 'test', "
    "'pending', 'info', 0, 0, '2026-01-05 10:00:00+00', '', '', '2026-01-05 10:00:00+00')"
)


def _notifications_on_existing_data(url: str) -> None:
    migrate.upgrade(url, "0004")
    asyncio.run(_insert(url, [TENANT, INTEGRATION_0001, "SELECT 1"]))
    migrate.upgrade(url)
    assert _schema_differences(url) == []
    rows = asyncio.run(_insert(url, [DELIVERY, "SELECT name, template, last_sent_at FROM integration"]))
    assert [tuple(r) for r in rows] == [("ops", "", None)]
    with pytest.raises(sa.exc.IntegrityError):
        asyncio.run(_insert(url, [DELIVERY, "SELECT 1"]))
    with pytest.raises(sa.exc.IntegrityError):
        asyncio.run(_insert(url, [INTEGRATION_0001, "SELECT 1"]))
    migrate.downgrade(url, "0004")
    assert "notification_delivery" not in asyncio.run(_tables(url))
    left = asyncio.run(_insert(url, ["SELECT name, config_encrypted FROM integration"]))
    assert [tuple(r) for r in left] == [("ops", "sealed")]
    migrate.upgrade(url)
    assert _schema_differences(url) == []


def test_notifications_migration_on_existing_data_on_postgresql() -> None:
    url = asyncio.run(create_database())
    try:
        _notifications_on_existing_data(url)
    finally:
        asyncio.run(drop_database(url))


def test_notifications_migration_on_existing_data_on_sqlite(tmp_path: Path) -> None:
    _notifications_on_existing_data(f"sqlite+aiosqlite:///{tmp_path / 'sg.db'}")
