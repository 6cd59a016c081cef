"""The fold both detection jobs end with: events (each with the engine's finding behind it) into the tenant's
open incidents, ranked with analysts' verdicts, upserted and linked; then `incident.changed` is published.

    async with incident_lock(ctx["redis"], tenant_id):
        async with session_scope() as session:
            changes = await drift_store.replace_snapshot_events(session, …)      # the events, ids given
            folded = await fold_findings(session, tenant_id=…, findings=[(event_id, finding), …])
    await announce(ctx["redis"], tenant_id=…, folded=folded, origin="detect", snapshot_id=…)

The events and their fold share one transaction, so an event is stored linked or not at all: a re-run finds it
stored, inserts nothing and folds nothing (an event folds once). Only the incidents a fold touched are ranked and
written: a verdict moves the scores of incidents first seen after it, so older ones keep theirs.

Live event `incident.changed` on `sg:{tenant}:events`:

    {"incident_ids": [id, …], "new": [id, …], "updated": [id, …], "origin": "detect" | "drift" | "monitor",
     "snapshot_id": id, "events": n}
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final, cast, get_args

from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from jobs.engines.detect.incidents import Incident, IncidentParams, group_incidents, key_of
from jobs.engines.detect.ranking import Feedback, Ranked, VerdictKind, rank_incidents, shape_of
from jobs.engines.detect.records import Finding, Kind, as_direction
from jobs.runtime.constants import incidents_lock_key
from jobs.runtime.events import publish_event
from jobs.runtime.leases import lease
from models.incidents import Incident as IncidentModel
from models.incidents import IncidentFeedback, IncidentRow, incident_totals
from models.queries import incident_store

# a fact's list (the scanners of a window, say) is kept to its first entries in events and totals
MAX_FACT_ITEMS: Final = 100
RANK_NOTE_MAX: Final = 300
Identity = tuple[str, int]  # (key, first_seen in microseconds): an incident's row


@dataclass(frozen=True, slots=True)
class Folded:
    """What one fold did: the incidents it created and extended (ids), and how many events it linked."""

    new: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    linked: int = 0

    @property
    def ids(self) -> tuple[int, ...]:
        return (*self.new, *self.updated)


@contextlib.asynccontextmanager
async def incident_lock(redis: Redis, tenant_id: int) -> AsyncIterator[None]:
    """Held around a fold's transaction: two folds never extend one incident at once."""
    async with lease(redis, incidents_lock_key(tenant_id)):
        yield


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def plain(value: Any) -> Any:
    """`value` as JSON: sets and tuples become lists (sets sorted), long lists keep their first entries,
    non-finite numbers become null."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        value = sorted(value, key=str)
    if isinstance(value, list | tuple):
        return [plain(v) for v in list(value)[:MAX_FACT_ITEMS]]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def finding_record(finding: Finding) -> dict[str, Any]:
    """A finding's own fields as JSON, without its sets and facts (an incident keeps those)."""
    f = finding
    return {"kind": f.kind, "direction": f.direction, "actor": f.actor, "target": f.target, "service": f.service,
            "first_ts": f.first_ts, "last_ts": f.last_ts, "attempts": f.attempts, "answered": f.answered,
            "risk": f.risk, "ports": sorted(f.ports), "explanation": f.explanation}


def _kind(value: str) -> Kind:
    if value not in get_args(Kind):
        raise ValueError(f"unknown finding kind {value!r}")
    return cast(Kind, value)


def finding_of(record: Mapping[str, Any], facts: Mapping[str, Any]) -> Finding:
    """The finding `finding_record` stored (its facts given apart)."""
    r = record
    return Finding(kind=_kind(str(r["kind"])), direction=as_direction(str(r["direction"])), actor=str(r["actor"]),
                   target=str(r["target"]), service=str(r["service"]), first_ts=float(r["first_ts"]),
                   last_ts=float(r["last_ts"]), attempts=int(r["attempts"]), answered=int(r["answered"]),
                   risk=float(r["risk"]), ports=frozenset(r.get("ports", ())), explanation=str(r["explanation"]),
                   facts=dict(facts))


def incident_of(row: IncidentModel) -> Incident:
    """A stored incident as the engine extends it (`totals` holds its sets, tallies and latest finding)."""
    totals = row.totals
    return Incident(
        key=row.key, kind=_kind(row.kind), direction=as_direction(row.direction), entity=row.entity,
        service=row.service, first_seen=row.first_seen.timestamp(), first_reported=row.first_reported.timestamp(),
        last_seen=row.last_seen.timestamp(), peak_risk=float(row.peak_risk), events=row.events,
        attempts=row.attempts, answered=row.answered,
        sources=_with_unlisted(totals.get("sources", ()), totals.get("source_count", 0), "source"),
        hosts=_with_unlisted(totals.get("hosts", ()), totals.get("host_count", 0), "host"),
        ports=dict(totals.get("ports", {})),
        actors=dict(totals.get("actors", {})), answered_ports=frozenset(totals.get("answered_ports", ())),
        latest=finding_of(totals["latest"], totals.get("facts", {})),
    )


def _with_unlisted(listed: Iterable[str], count: object, what: str) -> frozenset[str]:
    """The stored set, plus one stand-in per address `totals` counted but did not list (it keeps MAX_LISTED), so
    an extended incident still counts them. Stand-ins sort after every address, so they are never listed; a later
    finding's address that was among the unlisted is counted twice (an overcount of at most that overlap)."""
    known = frozenset(listed)
    missing = int(count) - len(known) if isinstance(count, int) else 0
    return known | {f"\uffff unlisted {what} {n}" for n in range(max(0, missing))}


def incident_row(ranked: Ranked) -> IncidentRow:
    """The columns the fold writes for a ranked incident."""
    i = ranked.incident
    totals = incident_totals(sources=i.sources, hosts=i.hosts, ports=i.ports, actors=i.actors,
                             answered_ports=i.answered_ports, facts=plain(i.latest.facts),
                             latest=finding_record(i.latest), shape=shape_of(i))
    return IncidentRow(
        key=i.key, kind=i.kind, direction=i.direction, entity=i.entity, service=i.service,
        first_seen=_when(i.first_seen), first_reported=_when(i.first_reported), last_seen=_when(i.last_seen),
        peak_risk=min(100, max(0, round(i.peak_risk))), severity=i.severity, score=ranked.score,
        rank_note=ranked.note[:RANK_NOTE_MAX], events=i.events, attempts=i.attempts, answered=i.answered,
        summary=i.summary, totals=totals,
    )


def feedback_of(rows: Iterable[IncidentFeedback], judged_last_seen: Mapping[int, datetime] | None = None,
                ) -> list[Feedback]:
    """The ranking engine's verdicts from stored ones (a verdict of another kind is refused).

    A verdict counts from the judged incident's last activity in flow time (or from when it was given, if earlier):
    incidents are dated by their flows, so a capture replayed after the verdict is still judged by it."""
    found = []
    judged = judged_last_seen or {}
    for row in rows:
        if row.verdict not in get_args(VerdictKind):
            raise ValueError(f"incident feedback {row.id} has the unknown verdict {row.verdict!r}")
        at = row.created_at
        if row.incident_id is not None and row.incident_id in judged:
            at = min(at, judged[row.incident_id])
        found.append(Feedback(incident_id=str(row.incident_id), key=row.key, shape=row.shape,
                              verdict=cast(VerdictKind, row.verdict), at=at.timestamp()))
    return found


def _order(item: tuple[int, Finding]) -> tuple[float, float, str, str, str, int]:
    f = item[1]
    return (f.last_ts, f.first_ts, f.kind, f.actor, f.target, item[0])


def fold(findings: Sequence[tuple[int, Finding]], open_incidents: Iterable[Incident],
         params: IncidentParams | None = None) -> tuple[dict[Identity, Incident], list[tuple[int, Identity]]]:
    """The incidents the findings touched (by identity) and each event's incident, in the engine's order.

    Folds one finding at a time with `group_incidents`, so each event knows its incident. A stored incident keeps
    its first_seen (its identity) even when a late finding starts earlier."""
    current: dict[str, Incident] = {}
    for incident in sorted(open_incidents, key=lambda i: (i.first_seen, i.last_seen)):
        current[incident.key] = incident  # the newest of a key is the one a finding may continue
    touched: dict[Identity, Incident] = {}
    links: list[tuple[int, Identity]] = []
    for event_id, finding in sorted(findings, key=_order):
        key = key_of(finding)
        before = current.get(key)
        grouped = group_incidents([finding], params, open_incidents=() if before is None else (before,))
        [after] = [incident for incident in grouped if incident is not before]
        if before is not None and len(grouped) == 1:
            after = replace(after, first_seen=before.first_seen)
        current[key] = after
        identity = (key, _micros(_when(after.first_seen)))
        touched[identity] = after
        links.append((event_id, identity))
    return touched, links


async def fold_findings(session: AsyncSession, *, tenant_id: int, findings: Sequence[tuple[int, Finding]],
                        params: IncidentParams | None = None) -> Folded:
    """Fold `(event_id, finding)` pairs into the tenant's open incidents, rank the incidents they touched with the
    tenant's verdicts, upsert them and link the events, in the caller's transaction (hold `incident_lock`)."""
    if not findings:
        return Folded()
    params = params or IncidentParams()
    since = _when(min(f.first_ts for _, f in findings) - params.quiet_gap_s)
    stored = await incident_store.open_incidents(session, tenant_id=tenant_id, since=since)
    known = {(row.key, _micros(row.first_seen)) for row in stored}
    touched, links = fold(findings, [incident_of(row) for row in stored], params)
    verdict_rows = await incident_store.ranking_feedback(session, tenant_id=tenant_id)
    judged = await incident_store.last_seen_of(
        session, tenant_id=tenant_id, incident_ids=[r.incident_id for r in verdict_rows if r.incident_id is not None])
    verdicts = feedback_of(verdict_rows, judged)
    rows = [incident_row(ranked) for ranked in rank_incidents(touched.values(), verdicts)]
    ids = {(key, _micros(first_seen)): incident_id for (key, first_seen), incident_id in
           (await incident_store.upsert_incidents(session, tenant_id=tenant_id, rows=rows)).items()}
    linked = await incident_store.link_events(session, tenant_id=tenant_id,
                                              links=[(event_id, ids[identity]) for event_id, identity in links])
    return Folded(new=tuple(sorted(ids[i] for i in touched if i not in known)),
                  updated=tuple(sorted(ids[i] for i in touched if i in known)), linked=linked)


async def announce(redis: Redis, *, tenant_id: int, folded: Folded, origin: str, snapshot_id: int) -> int:
    """Publish `incident.changed` when the fold touched any incident; returns how many subscribers got it."""
    if not folded.ids:
        return 0
    data = {"incident_ids": list(folded.ids), "new": list(folded.new), "updated": list(folded.updated),
            "origin": origin, "snapshot_id": snapshot_id, "events": folded.linked}
    return await publish_event(redis, tenant_id=tenant_id, kind="incident.changed", data=data)
