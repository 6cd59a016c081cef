"""The `detect_drift` job: snapshot → detect → score → explain → persist → publish → notify.

Inputs: the snapshot's engine snapshot (sidecar), the previous window, the baseline of the tenant's
N earlier ready windows (`jobs.tasks.baseline`), analysts' latest verdicts on events of earlier windows,
the whitelist entries active now, and the tenant's asset-criticality rules. Events are persisted
idempotently (rule in `models.queries.drift_store`), so ARQ's at-least-once delivery and re-runs
are harmless.

Live event `drift.created` (one per run that left the snapshot with events or removed some), on
`sg:{tenant}:events`:

    {"snapshot_id", "window_start", "window_end",
     "counts": {severity: n, …},        # all events of the snapshot now (absolute, not a delta)
     "total": n, "new": n,              # all of them / inserted by this run
     "events": [event, …],              # the inserted ones, highest risk first, at most 500
     "truncated": bool}                 # more than 500 were inserted

where each event is `DriftEventPublic` without reasons and evidence: id, snapshot_id, kind, src, dst,
dst_port, protocol, risk, severity, explanation, status, created_at, window_start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlmodel.ext.asyncio.session import AsyncSession

from jobs.engines.detect.drift_findings import excluded_until, exposed_keys, findings_of_drift
from jobs.engines.detect.home import HomeNetworks
from jobs.engines.drift import (
    Baseline,
    Deferral,
    DriftEventRecord,
    Snapshot,
    Verdict,
    WhitelistEntry,
    analyze,
    update_baseline,
)
from jobs.engines.drift.criticality import validate_criticality
from jobs.engines.drift.detect import prepare
from jobs.engines.drift.records import EventKind, VerdictKind
from jobs.engines.enrich import Enrichment
from jobs.runtime.constants import drift_lock_key
from jobs.runtime.events import publish_event
from jobs.runtime.gcpause import gc_paused
from jobs.runtime.home import home_of
from jobs.runtime.leases import lease
from jobs.runtime.notify import NOTIFY_SEVERITIES, notify_high_severity
from jobs.runtime.queue import enqueue_job
from jobs.runtime.tracking import PermanentJobError, report_progress, tracked
from jobs.stores.detection import load_excluded, load_meta
from jobs.stores.enrichment import enrichment_of
from jobs.tasks.baseline import WindowLoader, baseline_of, baselines, cache_key, store_baseline
from jobs.tasks.incidents import Folded, announce, fold_findings, incident_lock
from models.db import session_scope
from models.drift import DriftEvent
from models.errors import NotFound
from models.graph import Snapshot as SnapshotRow
from models.public.drift import DriftEventPublic
from models.queries import drift_store, tenancy
from models.queries import graph as graph_queries
from models.queries import whitelist as whitelist_queries
from models.tenancy import Tenant
from models.types import utcnow

# Re-detections after an earlier window changed wait briefly, so a burst of builds shares one run.
RECHECK_DEFER_SECONDS = 2.0
LIVE_EVENTS_MAX = 500


@dataclass(frozen=True)
class DetectInputs:
    """Everything detection reads from the database for one snapshot."""

    row: SnapshotRow
    window_count: int
    criticality: dict[str, float]
    prior: list[SnapshotRow]
    verdicts: list[Verdict]
    whitelist: list[WhitelistEntry]
    now: datetime
    # what detection covers for this window (docs/detection.md decision 5): the tenant's home networks, the
    # actors detection saw scanning or guessing and the exposed services; nothing until the job reads them
    deferral: Deferral = field(default_factory=Deferral)


def _criticality(rules: dict[str, float]) -> dict[str, float]:
    try:
        validate_criticality(rules)
    except ValueError as exc:
        raise PermanentJobError(f"the tenant setting criticality is invalid: {exc}") from exc
    return rules


def deferral_of(tenant: Tenant) -> Deferral:
    """What detection covers, from its committed state (state.json): the actors it saw scanning or guessing
    within a day and the exposed services, with the tenant's home networks."""
    tenant_id = tenant.id or 0
    services = [dict(zip(("host", "dst_port", "protocol"), key.rsplit("|", 2), strict=True))
                for key in load_meta(tenant_id).exposed]
    return Deferral(home=home_of(tenant), excluded=excluded_until(load_excluded(tenant_id)),
                    exposed=exposed_keys(services))


async def job_snapshot(session: AsyncSession, *, tenant_id: int, snapshot_id: int) -> SnapshotRow:
    """The snapshot a job was queued for; one that is gone makes the job fail for good (no retry can help)."""
    try:
        return await graph_queries.get_snapshot(session, tenant_id=tenant_id, snapshot_id=snapshot_id)
    except NotFound as exc:
        raise PermanentJobError(f"snapshot {snapshot_id} does not exist (any more)") from exc


async def _read_inputs(tenant_id: int, snapshot_id: int) -> DetectInputs:
    now = utcnow()
    async with session_scope() as session:
        tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
        row = await job_snapshot(session, tenant_id=tenant_id, snapshot_id=snapshot_id)
        count = tenant.baseline_windows
        prior = await drift_store.prior_snapshots(session, tenant_id=tenant_id, before=row.window_start,
                                                  limit=count + 1)
        verdicts = await drift_store.list_verdicts(session, tenant_id=tenant_id, before=row.window_start)
        entries = await whitelist_queries.active_whitelist(session, tenant_id=tenant_id, now=now)
        try:
            rules = tenant.criticality
        except (TypeError, ValueError) as exc:
            raise PermanentJobError(f"the tenant setting criticality is not a mapping of numbers: {exc}") from exc
    return DetectInputs(
        row=row, window_count=count, criticality=_criticality(rules), prior=prior, now=now,
        deferral=await asyncio.to_thread(deferral_of, tenant),
        verdicts=[Verdict(cast(EventKind, v["kind"]), v["src"], v["dst"], v["dst_port"], v["protocol"],
                          cast(VerdictKind, v["verdict"])) for v in verdicts],
        whitelist=[WhitelistEntry(src=w.src_pattern, dst=w.dst_pattern, dst_port=w.port, expires_at=w.expires_at,
                                  reason=w.reason, entry_id=str(w.id)) for w in entries],
    )


def _analyze(
    inputs: DetectInputs, current: Snapshot, previous: Snapshot | None, baseline: Baseline
) -> list[dict[str, Any]]:
    deferral = inputs.deferral
    tenant_id = inputs.row.tenant_id

    def owners(addresses: Collection[str]) -> dict[str, Enrichment]:
        # ASN, organisation and country stored at ingest (jobs.stores.enrichment): no lookup here
        return enrichment_of(tenant_id=tenant_id, addresses=addresses)

    records: list[DriftEventRecord] = analyze(
        current, previous, baseline, feedback=inputs.verdicts, whitelist=inputs.whitelist,
        criticality=inputs.criticality, now=inputs.now,
        home=deferral.home, excluded=deferral.excluded, exposed=deferral.exposed, enrich=owners,
    )

    return [record.to_dict() for record in records]


async def _persist(
    ctx: dict[str, Any], tenant_id: int, inputs: DetectInputs, events: list[dict[str, Any]]
) -> tuple[drift_store.EventChanges, dict[str, int], Folded]:
    """The events, and the new ones folded into incidents, in one transaction (an event folds once)."""
    row, home = inputs.row, inputs.deferral.home or HomeNetworks.of()
    async with incident_lock(ctx["redis"], tenant_id), session_scope() as session:
        changes = await drift_store.replace_snapshot_events(
            session, tenant_id=tenant_id, snapshot_id=row.id or 0, window_start=row.window_start, events=events
        )
        counts = await drift_store.severity_counts(session, tenant_id=tenant_id, snapshot_id=row.id or 0)
        findings = findings_of_drift(changes.inserted, home=home, window_start=row.window_start.timestamp(),
                                     window_end=row.window_end.timestamp())
        folded = await fold_findings(session, tenant_id=tenant_id,
                                     findings=[(int(f.facts["event_ref"]), f) for f in findings])
    return changes, counts, folded


def _slide(baseline: Baseline, current: Snapshot, home: HomeNetworks | None = None) -> Baseline:
    """The baseline with `current` added, indexed for the next window's detection ahead of time."""
    rolled = update_baseline(baseline, current)
    prepare(rolled, home=home)
    return rolled


async def _roll_baseline(
    ctx: dict[str, Any], tenant_id: int, inputs: DetectInputs, current: Snapshot, baseline: Baseline
) -> int | None:
    """Slide the baseline over this window: cached for the next window, stored when this one is the newest."""
    rolled = await asyncio.to_thread(_slide, baseline, current, inputs.deferral.home)
    held = [inputs.row, *inputs.prior[: inputs.window_count - 1]]
    baselines.put(await asyncio.to_thread(cache_key, tenant_id, inputs.window_count, held), rolled)
    async with session_scope() as session:
        newest = await graph_queries.list_snapshots(session, tenant_id=tenant_id, limit=1)
    if not newest or newest[0].id != inputs.row.id:
        return None
    return await store_baseline(ctx, tenant_id, rolled)


class PhaseClock:
    """Seconds spent per phase of a run, summed when a phase comes again (a job of several windows), kept in its
    result (the Jobs page shows where time went)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._mark = time.perf_counter()

    def lap(self, phase: str) -> None:
        """Charge the time since the last lap to `phase`."""
        now = time.perf_counter()
        self.move(phase, now - self._mark)
        self._mark = now

    def move(self, phase: str, seconds: float, *, from_phase: str | None = None) -> None:
        """Add `seconds` to `phase` (taken from `from_phase` when given: time measured inside another lap)."""
        self.laps[phase] = self.laps.get(phase, 0.0) + seconds
        if from_phase is not None:
            self.laps[from_phase] = self.laps.get(from_phase, 0.0) - seconds

    def rounded(self) -> dict[str, float]:
        return {phase: round(seconds, 3) for phase, seconds in self.laps.items()}


def live_event(row: DriftEvent | Mapping[str, Any]) -> dict[str, Any]:
    """An event as `drift.created` carries it: the public shape without reasons and evidence."""
    return DriftEventPublic.of(row).model_dump(exclude={"reasons", "evidence"})


def live_payload(row: SnapshotRow, fresh: Sequence[Mapping[str, Any]], counts: dict[str, int]) -> dict[str, Any]:
    """The `drift.created` data for one detection run (shape in the module docstring)."""
    return {
        "snapshot_id": row.id, "window_start": row.window_start.isoformat(), "window_end": row.window_end.isoformat(),
        "counts": counts, "total": sum(counts.values()), "new": len(fresh),
        "events": [live_event(e) for e in fresh[:LIVE_EVENTS_MAX]], "truncated": len(fresh) > LIVE_EVENTS_MAX,
    }


async def _announce(
    ctx: dict[str, Any], tenant_id: int, row: SnapshotRow, changes: drift_store.EventChanges, counts: dict[str, int]
) -> int:
    fresh = sorted(changes.inserted, key=lambda e: (-e["risk"], e["id"]))
    if fresh or changes.removed or counts:
        await publish_event(ctx["redis"], tenant_id=tenant_id, kind="drift.created",
                            data=live_payload(row, fresh, counts))
    urgent = [live_event(e) for e in fresh if e["status"] == "open" and e["severity"] in NOTIFY_SEVERITIES]
    if not urgent:
        return 0
    return await notify_high_severity(ctx, tenant_id=tenant_id, snapshot_id=row.id or 0, events=urgent)


@tracked(timeout=1800, max_tries=3)
async def detect_drift(ctx: dict[str, Any], *, tenant_id: int, snapshot_id: int) -> dict[str, Any]:
    """Detect, score, explain and persist the drift events of one snapshot; publish and notify."""
    # A run allocates a few hundred thousand short-lived, cycle-free objects; with the collector on,
    # each collection they trigger rescans the worker's cached baselines (measured: a third of the run).
    with gc_paused():
        async with lease(ctx["redis"], drift_lock_key(tenant_id, snapshot_id)):
            return await _detect(ctx, tenant_id, snapshot_id)


async def _detect(ctx: dict[str, Any], tenant_id: int, snapshot_id: int) -> dict[str, Any]:
    clock = PhaseClock()
    inputs = await _read_inputs(tenant_id, snapshot_id)
    loader = WindowLoader(tenant_id)
    await report_progress(ctx, fraction=0.1, message=f"loading the baseline of {len(inputs.prior)} windows")
    current = await loader.load(inputs.row)
    baseline = await baseline_of(loader, inputs.prior, inputs.window_count)
    previous = await loader.load(inputs.prior[0]) if inputs.prior else None
    clock.lap("load")
    await report_progress(ctx, fraction=0.5, message="detecting, scoring and explaining drift")
    events = await asyncio.to_thread(_analyze, inputs, current, previous, baseline)
    clock.lap("analyze")
    changes, counts, folded = await _persist(ctx, tenant_id, inputs, events)
    clock.lap("persist")
    # Analysts see the events first; sliding and storing the baseline follows.
    notified = await _announce(ctx, tenant_id, inputs.row, changes, counts)
    await announce(ctx["redis"], tenant_id=tenant_id, folded=folded, origin="drift", snapshot_id=snapshot_id)
    clock.lap("publish")
    stored = await _roll_baseline(ctx, tenant_id, inputs, current, baseline)
    clock.lap("baseline")
    return {
        "snapshot_id": snapshot_id, "window_start": inputs.row.window_start.isoformat(),
        "baseline_windows": baseline.held, "events": sum(counts.values()), "new": len(changes.inserted),
        "updated": changes.updated, "removed": changes.removed, "kept": changes.kept,
        "baseline_rows": stored, "notified": notified, "incidents_new": len(folded.new),
        "incidents_updated": len(folded.updated), "seconds": clock.rounded(),
    }


async def queue_detection(
    *, tenant_id: int, snapshot: SnapshotRow, changed: bool, baseline_windows: int
) -> list[int]:
    """Queue `detect_drift` for a just-built snapshot and, when its content changed, for the next
    `baseline_windows` ready snapshots, whose baselines include it (windows built out of order).

    Returns the job run ids.
    """
    window = snapshot.window_start.isoformat()
    runs = [await enqueue_job("detect_drift", tenant_id=tenant_id, triggered_by=f"snapshot of {window}",
                              params={"snapshot_id": snapshot.id}, key=str(snapshot.id), rerun_if_running=True)]
    if changed:
        async with session_scope() as session:
            later = await drift_store.later_snapshots(session, tenant_id=tenant_id, after=snapshot.window_start,
                                                      limit=baseline_windows)
        runs += [
            await enqueue_job("detect_drift", tenant_id=tenant_id, triggered_by=f"earlier window {window} changed",
                              params={"snapshot_id": row.id}, key=str(row.id), rerun_if_running=True,
                              defer_seconds=RECHECK_DEFER_SECONDS)
            for row in later
        ]
    return [run.id or 0 for run in runs]
