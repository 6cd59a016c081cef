"""Aggregates over job runs for the Jobs page and `/jobs/metrics`: counts, success rate, durations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.ops import JOB_STATUSES, JobRun

PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}


async def counts_since(session: AsyncSession, *, tenant_id: int, since: datetime) -> dict[str, int]:
    """Runs enqueued since `since`, per status (every status present)."""
    rows = await session.exec(
        select(JobRun.status, func.count())
        .where(JobRun.tenant_id == tenant_id, JobRun.enqueued_at >= since)
        .group_by(JobRun.status)
    )
    counts = dict.fromkeys(JOB_STATUSES, 0)
    counts.update({status: int(n) for status, n in rows})
    return counts


def success_rate(counts: dict[str, int]) -> float | None:
    """Succeeded over finished runs (None when nothing finished)."""
    finished = counts["succeeded"] + counts["failed"] + counts["cancelled"] + counts["lost"]
    return round(counts["succeeded"] / finished, 4) if finished else None


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Linear-interpolated percentile of already sorted values (as PostgreSQL's percentile_cont)."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


async def _durations_postgres(session: AsyncSession, tenant_id: int, since: datetime) -> list[Any]:
    seconds = func.extract("epoch", col(JobRun.finished_at) - col(JobRun.started_at))
    query = (
        select(JobRun.name, func.count(),
               func.percentile_cont(0.5).within_group(seconds), func.percentile_cont(0.95).within_group(seconds))
        .where(JobRun.tenant_id == tenant_id, JobRun.enqueued_at >= since, JobRun.status == "succeeded")
        .where(col(JobRun.started_at).is_not(None), col(JobRun.finished_at).is_not(None))
        .group_by(JobRun.name).order_by(JobRun.name)
    )
    return list(await session.exec(query))


async def _durations_python(session: AsyncSession, tenant_id: int, since: datetime) -> list[Any]:
    rows = await session.exec(
        select(JobRun.name, JobRun.started_at, JobRun.finished_at)
        .where(JobRun.tenant_id == tenant_id, JobRun.enqueued_at >= since, JobRun.status == "succeeded")
        .where(col(JobRun.started_at).is_not(None), col(JobRun.finished_at).is_not(None))
    )
    per_name: dict[str, list[float]] = {}
    for name, started, finished in rows:
        if started is not None and finished is not None:
            per_name.setdefault(name, []).append((finished - started).total_seconds())
    out = []
    for name in sorted(per_name):
        values = sorted(per_name[name])
        out.append((name, len(values), percentile(values, 0.5), percentile(values, 0.95)))
    return out


async def durations_by_name(session: AsyncSession, *, tenant_id: int, since: datetime) -> list[dict[str, Any]]:
    """p50/p95 duration in seconds of the tenant's succeeded runs since `since`, per job name."""
    dialect = session.bind.dialect.name if session.bind is not None else ""
    fetch = _durations_postgres if dialect == "postgresql" else _durations_python
    rows = await fetch(session, tenant_id, since)
    return [{"name": name, "runs": int(n), "p50_seconds": round(float(p50), 4), "p95_seconds": round(float(p95), 4)}
            for name, n, p50, p95 in rows]


FINAL_STATUSES = ("succeeded", "failed", "cancelled", "lost")


async def throughput(session: AsyncSession, *, tenant_id: int, now: datetime,
                     span: timedelta = timedelta(hours=1)) -> dict[str, list[int]]:
    """Runs that finished in each minute of the last `span`, per final status: {"minutes": [epoch seconds of each
    minute, oldest first], status: [count per minute]} (every minute and status present, zero if none)."""
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    minutes = [end - timedelta(minutes=m) for m in range(int(span.total_seconds() // 60), 0, -1)]
    # Bucketed here, not with PostgreSQL's date_trunc: SQLite (the embedded default) has no such function, and an
    # hour of one tenant's finished runs is a small read.
    rows = await session.exec(
        select(JobRun.finished_at, JobRun.status)
        .where(JobRun.tenant_id == tenant_id, col(JobRun.finished_at) >= minutes[0], col(JobRun.finished_at) < end)
        .where(col(JobRun.status).in_(FINAL_STATUSES))
    )
    index = {int(m.timestamp()): i for i, m in enumerate(minutes)}
    out: dict[str, list[int]] = {"minutes": list(index)}
    out.update({status: [0] * len(minutes) for status in FINAL_STATUSES})
    for finished, status in rows:
        if finished is None:
            continue
        stamp = finished if finished.tzinfo else finished.replace(tzinfo=minutes[0].tzinfo)
        slot = index.get(int(stamp.replace(second=0, microsecond=0).timestamp()))
        if slot is not None:
            out[status][slot] += 1
    return out


async def job_names(session: AsyncSession, *, tenant_id: int) -> list[str]:
    """The job names the tenant has runs of (the name filter's choices)."""
    rows = await session.exec(select(JobRun.name).where(JobRun.tenant_id == tenant_id).distinct())
    return sorted(rows)


async def run_metrics(session: AsyncSession, *, tenant_id: int, now: datetime) -> dict[str, Any]:
    """Counts per period, the 24 h success rate and 7 d duration percentiles of the tenant."""
    periods = {key: await counts_since(session, tenant_id=tenant_id, since=now - span) for key, span in PERIODS.items()}
    return {
        "counts": periods,
        "success_rate": {key: success_rate(counts) for key, counts in periods.items()},
        "durations": await durations_by_name(session, tenant_id=tenant_id, since=now - PERIODS["7d"]),
    }
