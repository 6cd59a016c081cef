"""`GET /metrics`: Prometheus' text format for the whole deployment (issue 20 item 6).

Counters and histograms come from every process that writes them (jobs.runtime.metrics; with
PROMETHEUS_MULTIPROC_DIR set, the files of all web and worker processes are added up). Gauges of the present
are read at scrape time: queue depth per queue (Redis), live workers, and per tenant the active job runs, live
web sessions, stored drift events by kind and severity, and notifier deliveries by status (the database).

Access: with `SG_METRICS_TOKEN` set, a scrape must send `Authorization: Bearer <token>` (Prometheus:
`authorization: {credentials: …}` in the scrape config); without it, only loopback clients may scrape (a sidecar
or a local Prometheus), others get 403. The path is outside /api/v1 where Prometheus looks by default.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dashboard.api.errors import ApiError
from jobs.runtime import monitor
from jobs.runtime.connections import get_redis
from models.db import session_scope
from models.queries import jobs as job_queries
from models.queries import metrics_counts, tenancy
from models.types import utcnow

router = APIRouter()
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Snapshot(Collector):
    """Gauges read once for one scrape."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


async def scrape_gauges() -> list[GaugeMetricFamily]:
    """The gauges of the present (see the module doc)."""
    redis, now = get_redis(), utcnow()
    depth = _gauge("sg_queue_depth", "Jobs in an ARQ queue: waiting, running or deferred", ["queue"])
    due = _gauge("sg_queue_due", "Jobs in an ARQ queue whose time has come: waiting for a worker or running",
                 ["queue"])
    for queue in await monitor.queue_depths(redis):
        depth.add_metric([queue["queue"]], queue["depth"])
        due.add_metric([queue["queue"]], queue["due"])
    workers = _gauge("sg_workers", "Worker processes with a live heartbeat, by the queues they serve", ["queues"])
    served: dict[str, int] = {}
    for worker in await monitor.live_workers(redis, now=now):
        served[worker["queues"] or "unknown"] = served.get(worker["queues"] or "unknown", 0) + 1
    for queues, count in sorted(served.items()):
        workers.add_metric([queues], count)
    active = _gauge("sg_job_runs_active", "Job runs not finished, by tenant and status (queued, running, retrying)",
                    ["tenant", "status"])
    sessions = _gauge("sg_live_sessions", "Signed-in web sessions not expired, by tenant", ["tenant"])
    drift = _gauge("sg_drift_events", "Stored drift events, by tenant, kind and severity",
                   ["tenant", "kind", "severity"])
    deliveries = _gauge("sg_notifier_deliveries", "Notifier deliveries stored, by tenant and status "
                        "(pending, sent, failed, skipped…)", ["tenant", "status"])
    async with session_scope() as session:
        for tenant_id in await tenancy.list_tenant_ids(session):
            tenant = str(tenant_id)
            counts = await job_queries.count_job_runs_by_status(session, tenant_id=tenant_id)
            for status in ("queued", "running", "retrying"):
                active.add_metric([tenant, status], counts.get(status, 0))
            sessions.add_metric([tenant], await metrics_counts.live_session_count(session, tenant_id=tenant_id,
                                                                                   now=now))
            for kind, severity, count in await metrics_counts.drift_event_counts(session, tenant_id=tenant_id):
                drift.add_metric([tenant, kind, severity], count)
            for status, count in await metrics_counts.delivery_counts(session, tenant_id=tenant_id):
                deliveries.add_metric([tenant, status], count)
    return [depth, due, workers, active, sessions, drift, deliveries]


def _authorize(request: Request) -> None:
    token = os.environ.get("SG_METRICS_TOKEN", "")
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise ApiError(401, "unauthorized", "/metrics needs the bearer token of SG_METRICS_TOKEN",
                           {"WWW-Authenticate": "Bearer"})
        return
    peer = request.client.host if request.client else ""
    if peer not in LOOPBACK:
        raise ApiError(403, "forbidden", "/metrics answers loopback clients only: set SG_METRICS_TOKEN to let "
                       "Prometheus scrape from elsewhere")


def exposition(gauges: list[GaugeMetricFamily]) -> bytes:
    """Every process's counters (one registry, or the multiprocess files) and the scrape's gauges."""
    now = CollectorRegistry()
    now.register(Snapshot(gauges))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shared = CollectorRegistry()
        multiprocess.MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
        return generate_latest(shared) + generate_latest(now)
    return generate_latest(REGISTRY) + generate_latest(now)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus' text exposition format (see the module doc for access)."""
    _authorize(request)
    return Response(exposition(await scrape_gauges()), media_type=CONTENT_TYPE)
