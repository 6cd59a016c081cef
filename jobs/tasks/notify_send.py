"""Sending one integration's claimed, routed deliveries (`Drain`): the rate limit, digests, batches for syslog and
HEC, and the bookkeeping of each try (sent with latency and the receiver's reference, or retried with backoff,
failed, dead). Rows not reached before the budget ends go back to the queue untouched (`release`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from jobs.engines.notify.notice import Notice
from jobs.engines.notify.pacing import MAX_ATTEMPTS, RATE_INTERVAL_S, RateLimit, backoff_delay, plan_digest
from jobs.integrations.notify.dispatch import Target, send_batch, send_digest, send_one
from jobs.integrations.notify.errors import DeliveryError, Permanent
from models.db import session_scope
from models.notifications import Integration, NotificationDelivery
from models.queries import notification_outbox as outbox
from models.queries import notifications as integrations
from models.settings import get_settings
from models.types import utcnow

BATCH_KINDS = ("syslog", "splunk_hec")
SEND_BUDGET_S = outbox.LEASE.total_seconds() / 2  # stop sending well before the claimed rows' lease ends


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


class Drain:
    """One integration's due deliveries, claimed; sends them and settles each."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        integration: Integration,
        rows: list[NotificationDelivery],
        notices: dict[int, Notice],
        *,
        tenant_id: int,
    ) -> None:
        self.client, self.integration, self.rows, self.notices = client, integration, rows, notices
        self.tenant_id = tenant_id
        self.target = Target(
            integration.kind,
            dict(integration.config),
            integrations.read_secrets(integration),
            get_settings().notify_hosts,
        )
        self.rate = RateLimit(RATE_INTERVAL_S.get(integration.kind, 0.0))
        self.last_sent = integration.last_sent_at
        self.counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0, "digested": 0}

    async def _mark_sent(self, session: AsyncSession) -> None:
        if self.last_sent is not None:
            await outbox.mark_integration_sent(
                session, tenant_id=self.tenant_id, integration_id=int(self.integration.id or 0), at=self.last_sent
            )

    async def _settle_error(self, rows: Sequence[NotificationDelivery], error: DeliveryError, now: datetime) -> None:
        async with session_scope() as session:
            await self._mark_sent(session)
            for row in rows:
                if isinstance(error, Permanent):
                    status, retry_at = "failed", None
                elif row.attempts >= MAX_ATTEMPTS:
                    status, retry_at = "dead", None
                else:
                    jitter = (int(row.id or 0) * 0.6180339887) % 1.0
                    delay = backoff_delay(
                        row.attempts, retry_after_s=getattr(error, "retry_after_s", None), jitter=jitter
                    )
                    status, retry_at = "pending", now + timedelta(seconds=delay)
                await outbox.settle(
                    session,
                    tenant_id=self.tenant_id,
                    delivery_id=int(row.id or 0),
                    status=status,
                    error=error.answer,
                    retry_at=retry_at,
                )
        self.counts["failed" if isinstance(error, Permanent) else "retry"] += len(rows)

    async def _settle_sent(
        self, rows: Sequence[NotificationDelivery], started: float, *, ref: str = "", digest_id: int | None = None
    ) -> None:
        async with session_scope() as session:
            await self._mark_sent(session)
            for row in rows:
                await outbox.settle(
                    session,
                    tenant_id=self.tenant_id,
                    delivery_id=int(row.id or 0),
                    status="sent",
                    latency_ms=_ms(started),
                    external_ref=ref,
                    digest_id=digest_id,
                )
        self.counts["digested" if digest_id else "sent"] += len(rows)

    async def _pace(self) -> None:
        """Wait for the integration's next slot, then take it: every request counts, answered or not."""
        wait = (self.rate.next_slot(self.last_sent, utcnow()) - utcnow()).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
        self.last_sent = utcnow()  # the request goes right after this; it is recorded with its outcome

    async def _one(self, row: NotificationDelivery) -> None:
        await self._pace()
        started, notice = time.monotonic(), self.notices[int(row.id or 0)]
        issue_key = ""
        if self.integration.kind == "jira" and row.incident_id is not None:
            async with session_scope() as session:
                issue_key = await outbox.external_ref_of(
                    session, tenant_id=self.tenant_id, integration_id=row.integration_id, incident_id=row.incident_id
                )
        try:
            ref = await send_one(
                self.client,
                self.target,
                notice,
                key=row.idempotency_key,
                issue_key=issue_key,
                retried=row.attempts > 1,
                now=utcnow(),
            )
        except DeliveryError as error:
            await self._settle_error([row], error, utcnow())
            return
        await self._settle_sent([row], started, ref=ref)

    async def _digest(self, rows: list[NotificationDelivery]) -> None:
        await self._pace()
        started, first = time.monotonic(), rows[0]
        async with session_scope() as session:
            digest = NotificationDelivery(
                tenant_id=self.tenant_id,
                integration_id=first.integration_id,
                kind="digest",
                attempts=1,
                idempotency_key=f"i{first.integration_id}:digest:{first.id}-{rows[-1].id}:{utcnow().timestamp():.6f}",
                next_attempt_at=utcnow() + outbox.LEASE,
                severity=max((r.severity for r in rows), key=_severity_rank),
                events=len(rows),
            )
            session.add(digest)
        try:
            await send_digest(
                self.client,
                self.target,
                [self.notices[int(r.id or 0)] for r in rows],
                key=digest.idempotency_key,
                now=utcnow(),
            )
        except DeliveryError as error:
            # the digest is a record of one try; its incidents go back to the queue (or fail) on their own rows
            async with session_scope() as session:
                await outbox.settle(
                    session,
                    tenant_id=self.tenant_id,
                    delivery_id=int(digest.id or 0),
                    status="failed",
                    error=f"{error.answer} (its {len(rows)} incidents wait on their own rows)",
                )
            await self._settle_error(rows, error, utcnow())
            return
        await self._settle_sent([digest], started)
        await self._settle_sent(rows, started, digest_id=digest.id)

    async def run(self, deadline: float) -> dict[str, int]:
        """Send everything claimed; rows left when the budget runs out go back to the queue untouched."""
        plan = plan_digest([(int(r.id or 0), r.kind) for r in self.rows], integration_kind=self.integration.kind)
        by_id = {int(r.id or 0): r for r in self.rows}
        if plan.digest:
            await self._digest([by_id[i] for i in plan.digest])
        singles = [by_id[i] for i in plan.singles]
        if self.integration.kind in BATCH_KINDS and singles:
            started = time.monotonic()
            try:
                await send_batch(self.client, self.target, [self.notices[i] for i in plan.singles], now=utcnow())
            except DeliveryError as error:
                await self._settle_error(singles, error, utcnow())
                return self.counts
            await self._settle_sent(singles, started)
            return self.counts
        for index, row in enumerate(singles):
            if time.monotonic() > deadline:
                await release(self.tenant_id, singles[index:])
                break
            await self._one(row)
        return self.counts


def _severity_rank(name: str) -> int:
    return ("info", "low", "medium", "high", "critical").index(name)


async def release(tenant_id: int, rows: Sequence[NotificationDelivery]) -> None:
    """Give claimed rows back, due now, their try not counted (none was made)."""
    async with session_scope() as session:
        for row in rows:
            stored = await outbox.settle(
                session,
                tenant_id=tenant_id,
                delivery_id=int(row.id or 0),
                status="pending",
                error=row.last_error,
                retry_at=utcnow(),
            )
            stored.attempts = max(0, stored.attempts - 1)
            session.add(stored)
