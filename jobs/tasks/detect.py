"""The `detect_incidents` job: a window's connections → scans, brute force, intrusions, beacons → incidents.

    build_snapshot → detect_incidents → detect_drift          (docs/detection.md, "The job")

Under the tenant's detection lock it loads the detection state (`jobs.stores.detection`) and detects the
snapshot's window, after the ready windows it missed (in order: the state moves one window at a time). A window
before the state's end (a late file, a rebuild) is re-run alone against the current state: its findings and
segments are replaced and the state is not rewound. A window already detected from the same build is skipped.

Per window: read the connections, `prepare` them with the tenant's home networks, `detect_window`,
`exposed_services`; store the findings as `drift_event` rows (origin 'detect') and fold them into incidents in
one transaction (`jobs.tasks.incidents`); then save the state and publish `incident.changed`. The state is
saved after the fold: a crash between them re-runs the window from the old state, whose findings are already
stored, so nothing folds twice. Drift is queued at the end whatever happened: a failed detection never withholds
drift.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Final

import polars as pl

from jobs.engines.detect.frame import prepare
from jobs.engines.detect.home import HomeNetworks, exposed_services
from jobs.engines.detect.incidents import group_incidents
from jobs.engines.detect.pipeline import DetectionState, detect_window
from jobs.engines.detect.records import Finding
from jobs.runtime.constants import detect_lock_key
from jobs.runtime.home import home_of
from jobs.runtime.leases import lease
from jobs.runtime.tracking import report_progress, tracked
from jobs.stores.detection import KEEP_SECONDS, StateMeta, home_hash, load_meta, load_state, save_state
from jobs.stores.flows import read_connections
from jobs.tasks.drift import PhaseClock, job_snapshot, queue_detection
from jobs.tasks.incidents import Folded, announce, fold_findings, incident_lock, plain
from models.db import session_scope
from models.graph import Snapshot as SnapshotRow
from models.queries import drift_store, tenancy
from models.tenancy import Tenant

# windows a job catches up at most; older missed ones are detected by their own jobs, as late windows
MAX_CATCH_UP: Final = 96
# windows remembered as done (by build): two days, so a job queued late still sees its window was detected
WINDOWS_KEPT_S: Final = 2 * KEEP_SECONDS
MAX_LISTED: Final = 100


@dataclass(frozen=True, slots=True)
class WindowDone:
    """What one window gave: its findings, the events inserted, and the fold."""

    findings: int
    inserted: int
    folded: Folded


def version_of(row: SnapshotRow) -> str:
    """Which build of a window was detected: its build time (a rebuild changes it)."""
    return row.built_at.isoformat() if row.built_at else ""


def _epoch(row: SnapshotRow) -> str:
    return str(int(row.window_start.timestamp()))


def _port_of(finding: Finding) -> tuple[int | None, str]:
    """(port, protocol) of a finding on one port ("22/tcp"); (None, the protocol if one) otherwise."""
    labels = finding.ports or ({finding.service} if "/" in finding.service else set())
    protocols = {label.partition("/")[2] or label for label in labels}
    protocol = protocols.pop() if len(protocols) == 1 else ""
    if len(labels) == 1:
        number, _, _ = next(iter(labels)).partition("/")
        return (int(number) if number.isdigit() else None), protocol
    return None, protocol


def explanation_of(finding: Finding) -> str:
    """A finding's explanation; a campaign's is the summary of the incident it alone would make."""
    return finding.explanation or group_incidents([finding])[0].summary


def signature_of(finding: Finding) -> str:
    """One event per finding and window: kind, direction, actor, target and service (an intrusion also by its
    first failure: one actor may break in twice in a window)."""
    f = finding
    parts = [f.kind, f.direction, f.actor, f.target, f.service]
    return "|".join(parts + ([str(int(f.first_ts))] if f.kind == "intrusion" else []))


def finding_event(finding: Finding) -> dict[str, Any]:
    """A finding as a `drift_event` row's values (the shape `replace_snapshot_events` takes)."""
    f = finding
    port, protocol = _port_of(f)
    explanation = explanation_of(f)
    evidence = {
        "direction": f.direction, "service": f.service, "first_ts": f.first_ts, "last_ts": f.last_ts,
        "attempts": f.attempts, "answered": f.answered, "source_count": len(f.sources),
        "sources": sorted(f.sources)[:MAX_LISTED], "host_count": len(f.hosts), "hosts": sorted(f.hosts)[:MAX_LISTED],
        "ports": sorted(f.ports)[:MAX_LISTED], "facts": plain(f.facts),
    }
    reason = {"feature": f.kind, "value": 1.0, "weight": f.risk, "contribution": f.risk, "evidence": explanation}
    return {"kind": f.kind, "src": f.actor, "dst": f.target, "dst_port": port, "protocol": protocol,
            "risk": f.risk, "severity": f.severity, "reasons": [reason], "explanation": explanation,
            "status": "open", "evidence": evidence, "signature": signature_of(f)}


def _without_window(state: DetectionState, start: float, end: float) -> DetectionState:
    """The state without the window's own rows (a re-run brings them again, with a late file's added)."""
    outside = ~pl.col("ts").is_between(start, end, closed="left")
    history = None if state.beacon_history is None else state.beacon_history.filter(outside)
    auth = None if state.auth_history is None else state.auth_history.filter(outside)
    return replace(state, beacon_history=history, auth_history=auth)


def _merged(current: DetectionState, after: DetectionState) -> DetectionState:
    """A late window's state folded into the current one: its histories, the newest of every time."""
    reported = dict(current.reported)
    for key, (risk, when) in after.reported.items():
        old = reported.get(key, (risk, when))
        reported[key] = (max(risk, old[0]), max(when, old[1]))
    excluded = {k: max(v, current.excluded.get(k, v)) for k, v in after.excluded.items()}
    habits = {k: min(v, current.habits.get(k, v)) for k, v in after.habits.items()}
    firsts = [t for t in (current.observed_from, after.observed_from) if t is not None]
    return replace(after, observed_from=min(firsts) if firsts else None, reported=reported,
                   excluded={**current.excluded, **excluded}, habits={**current.habits, **habits})


def _next_meta(meta: StateMeta, row: SnapshotRow, exposed: pl.DataFrame, home: HomeNetworks) -> StateMeta:
    end = row.window_end.timestamp()
    newest = max(end, meta.window_end or end)
    services = {k: v for k, v in meta.exposed.items() if v >= newest - KEEP_SECONDS}
    for host, port, protocol in exposed.select("host", "dst_port", "protocol").iter_rows():
        services[f"{host}|{port}|{protocol}"] = max(end, services.get(f"{host}|{port}|{protocol}", end))
    windows = {k: v for k, v in meta.windows.items() if int(k) >= newest - WINDOWS_KEPT_S}
    windows[_epoch(row)] = version_of(row)
    return StateMeta(window_end=newest, home_hash=home_hash(home), exposed=services, windows=windows)


def _detect(state: DetectionState, tenant_id: int, row: SnapshotRow, seconds: int,
            home: HomeNetworks) -> tuple[list[Finding], DetectionState, pl.DataFrame, float]:
    began = time.perf_counter()
    frame = prepare(read_connections(tenant_id, row.window_start, seconds), home)
    read = time.perf_counter() - began
    findings, after = detect_window(state, frame, window_end=row.window_end.timestamp())
    return findings, after, exposed_services(frame), read


async def _store(ctx: dict[str, Any], tenant_id: int, row: SnapshotRow, findings: list[Finding]) -> WindowDone:
    """The findings as events (origin 'detect') and their fold into incidents, in one transaction."""
    events = [finding_event(f) for f in findings]
    by_signature = {event["signature"]: f for event, f in zip(events, findings, strict=True)}
    async with incident_lock(ctx["redis"], tenant_id), session_scope() as session:
        changes = await drift_store.replace_snapshot_events(
            session, tenant_id=tenant_id, snapshot_id=row.id or 0, window_start=row.window_start, events=events,
            origin="detect")
        pairs = [(int(event["id"]), by_signature[event["signature"]]) for event in changes.inserted]
        folded = await fold_findings(session, tenant_id=tenant_id, findings=pairs)
    return WindowDone(findings=len(findings), inserted=len(changes.inserted), folded=folded)


async def _window(ctx: dict[str, Any], tenant: Tenant, home: HomeNetworks, row: SnapshotRow,
                  current: tuple[DetectionState, StateMeta], clock: PhaseClock) -> tuple[DetectionState,
                                                                                          StateMeta, WindowDone]:
    """Detect one window, store and fold its findings, save the state, publish."""
    state, meta = current
    tenant_id, start, end = tenant.id or 0, row.window_start.timestamp(), row.window_end.timestamp()
    late = meta.window_end is not None and start < meta.window_end
    findings, after, exposed, read = await asyncio.to_thread(
        _detect, _without_window(state, start, end), tenant_id, row, tenant.window_seconds, home)
    clock.lap("detect")
    clock.move("read", read, from_phase="detect")
    done = await _store(ctx, tenant_id, row, findings)
    clock.lap("fold")
    after = _merged(state, after) if late else after
    meta = _next_meta(meta, row, exposed, home)
    await asyncio.to_thread(save_state, tenant_id, (start, end), after, meta)
    clock.lap("save")
    await announce(ctx["redis"], tenant_id=tenant_id, folded=done.folded, origin="detect", snapshot_id=row.id or 0)
    clock.lap("publish")
    return after, meta, done


async def _plan(tenant_id: int, row: SnapshotRow, meta: StateMeta, changed: bool) -> list[SnapshotRow]:
    """The windows to detect, oldest first: none when this build was detected already; this one alone when it
    is late (before the state's end); else the ready windows missed since the state's end, then this one."""
    done = meta.windows.get(_epoch(row))
    if done is not None and (not changed or done == version_of(row)):
        return []
    if meta.window_end is not None and row.window_start.timestamp() < meta.window_end:
        return [row]
    async with session_scope() as session:
        earlier = await drift_store.prior_snapshots(session, tenant_id=tenant_id, before=row.window_start,
                                                    limit=MAX_CATCH_UP)
    # a new tenant's state has no end yet: every ready window before this one was missed
    since = -math.inf if meta.window_end is None else meta.window_end
    missed = [s for s in reversed(earlier) if s.window_start.timestamp() >= since and _epoch(s) not in meta.windows]
    return [*missed, row]


async def _run(ctx: dict[str, Any], tenant: Tenant, row: SnapshotRow, changed: bool) -> dict[str, Any]:
    clock, tenant_id = PhaseClock(), tenant.id or 0
    home = home_of(tenant)
    before = await asyncio.to_thread(load_meta, tenant_id)
    plan = await _plan(tenant_id, row, before, changed)
    result: dict[str, Any] = {"snapshot_id": row.id, "window_start": row.window_start.isoformat()}
    if not plan:
        return result | {"note": "already detected", "windows": 0}
    late = before.window_end is not None and row.window_start.timestamp() < before.window_end
    state, meta = await asyncio.to_thread(load_state, tenant_id, until=plan[0].window_end.timestamp(), home=home)
    clock.lap("load")
    totals: Counter[str] = Counter()
    new: set[int] = set()
    updated: set[int] = set()
    for index, window in enumerate(plan):
        if len(plan) > 1:
            await report_progress(ctx, fraction=index / len(plan),
                                  message=f"detecting window {index + 1} of {len(plan)} ({window.window_start:%H:%M})")
        state, meta, done = await _window(ctx, tenant, home, window, (state, meta), clock)
        totals.update(findings=done.findings, events=done.inserted, linked=done.folded.linked)
        new |= set(done.folded.new)
        updated |= set(done.folded.updated)
    return result | {
        "windows": len(plan), "caught_up": [w.window_start.isoformat() for w in plan[:-1]],
        "late": late, "findings": totals["findings"],
        "events_new": totals["events"], "incidents_new": len(new), "incidents_updated": len(updated - new),
        "seconds": clock.rounded(),
    }


async def _inputs(tenant_id: int, snapshot_id: int) -> tuple[Tenant, SnapshotRow]:
    async with session_scope() as session:
        tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
        row = await job_snapshot(session, tenant_id=tenant_id, snapshot_id=snapshot_id)
    return tenant, row


@tracked(timeout=1800, max_tries=3)
async def detect_incidents(ctx: dict[str, Any], *, tenant_id: int, snapshot_id: int, changed: bool) -> dict[str, Any]:
    """Detect the snapshot's window (after the windows missed before it), fold the findings into incidents,
    publish; then queue drift detection of the snapshot (and of later ones when this one `changed`)."""
    tenant, row = await _inputs(tenant_id, snapshot_id)
    try:
        async with lease(ctx["redis"], detect_lock_key(tenant_id)):
            result = await _run(ctx, tenant, row, changed)
    finally:
        # a failed detection never withholds drift: its events are still worth an analyst's look
        drift_jobs = await queue_detection(tenant_id=tenant_id, snapshot=row, changed=changed,
                                           baseline_windows=tenant.baseline_windows)
    return result | {"drift_jobs": drift_jobs}

