"""Policy generation on the Policies page: pick the newest N windows or a period (per source and cluster),
follow the run's progress, cancel it, and read what it did in words. With more than one cluster in the
windows the form offers "all" (one policy set per cluster, the default) or one cluster (issue 19 A4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx

from jobs.runtime import control
from jobs.tasks.policy import MAX_UNION, queue_generation
from models.db import session_scope
from models.errors import Conflict, Invalid
from models.queries import policy_windows
from models.queries.policy_windows import ANY_SOURCE, DEFAULT_CLUSTER
from state.base import AppState, guarded
from state.live import listens_to
from state.policies import PoliciesState

SKIPPED_SHOWN = 5
LOCAL = "%Y-%m-%dT%H:%M"
ALL_CLUSTERS = "all"


def _parse(text: str, what: str) -> datetime:
    try:
        moment = datetime.strptime(text.strip(), LOCAL)
    except ValueError as exc:
        raise Invalid(f"the period's {what} is missing or not a date and time") from exc
    return moment.replace(tzinfo=UTC)


def parse_period(start: str, end: str) -> tuple[datetime, datetime]:
    """The form's period (UTC, minutes) as aware times; Invalid in words when it is missing or backwards."""
    first, last = _parse(start, "start"), _parse(end, "end")
    if last <= first:
        raise Invalid("the period's end must come after its start")
    return first, last


def generation_message(data: dict[str, Any]) -> str:
    """What a finished generation did, saying so when its windows held no workloads."""
    windows, with_pods = data.get("windows", 0), data.get("workload_windows", 0)
    if data.get("no_workloads"):
        return (f"0 policies: these {windows} snapshot(s) have no workloads (their flows name addresses only, "
                "e.g. Zeek or VPC flow logs). Pick windows with Kubernetes flows (Hubble).")
    text = (f"Generated {data.get('policies', 0)} policies from {with_pods} of {windows} window(s) holding "
            f"workloads: {len(data.get('created', []))} new versions, {data.get('unchanged', 0)} unchanged.")
    text += " The set allows exactly the observed traffic." if data.get("exact") else " The set is not exact."
    skipped = data.get("skipped", [])
    if skipped:
        named = "; ".join(f"{s['workload']} ({s['reason']})" for s in skipped[:SKIPPED_SHOWN])
        more = f" and {len(skipped) - SKIPPED_SHOWN} more" if len(skipped) > SKIPPED_SHOWN else ""
        text += f" No policy for {named}{more}."
    return text


@listens_to("policy.updated", "job.updated")
class GenerationState(AppState):
    sources: list[str] = [ANY_SOURCE]
    # the cluster choices: [all, *clusters] when the windows hold more than one, else just the one
    clusters: list[str] = [DEFAULT_CLUSTER]
    period: dict[str, str] = {"start": "", "end": ""}
    available: str = ""
    message: str = ""
    message_error: bool = False
    running: bool = False
    progress: int = 0
    progress_text: str = ""
    _run: int = 0

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """The sources and period the tenant's windows offer (default period: the 7 days up to the newest window
        holding workloads, which policies are learned from; else up to the newest window)."""
        async with session_scope() as session:
            found = await policy_windows.window_choices(session, tenant_id=self._tenant_id)
            with_workloads = await policy_windows.newest_workload_window(session, tenant_id=self._tenant_id)
            clusters = await policy_windows.workload_clusters(session, tenant_id=self._tenant_id)
        self.clusters = [ALL_CLUSTERS, *clusters] if len(clusters) > 1 else clusters
        self.sources = [ANY_SOURCE, *found.sources]
        if found.last is None or found.first is None:
            self.available = "No ready snapshot yet: ingest flows first."
            return
        last = with_workloads.window_end if with_workloads is not None else found.last
        start = max(found.first, last - timedelta(days=7))
        self.period = {"start": start.strftime(LOCAL), "end": last.strftime(LOCAL)}
        self.available = (f"{found.windows} ready window(s) from {found.first:%Y-%m-%d %H:%M} to "
                          f"{found.last:%Y-%m-%d %H:%M} UTC; {found.workload_windows} hold Kubernetes workloads.")

    @rx.event
    @guarded("analyst")
    async def generate(self, form: dict[str, Any]) -> None:
        """Queue generation over the period (or the newest N windows) for one source and cluster."""
        source = str(form.get("source", ANY_SOURCE))
        picked = str(form.get("cluster") or ALL_CLUSTERS)
        if source not in self.sources or (picked != ALL_CLUSTERS and picked not in self.clusters):
            self._say("choose a source and cluster from the lists", error=True)
            return
        cluster = None if picked == ALL_CLUSTERS else picked
        try:
            if form.get("mode") == "newest":
                run = await self._newest(str(form.get("last", "")).strip(), cluster)
            else:
                start, end = parse_period(str(form.get("start", "")), str(form.get("end", "")))
                run = await self._period(start, end, source, cluster)
        except (Invalid, Conflict) as exc:
            self._say(exc.message, error=True)
            return
        self._run, self.running, self.progress = run, True, 0
        self.progress_text = "queued"
        self._say("Generating policies: progress shows below; the list updates when the run ends.", error=False)

    async def _newest(self, text: str, cluster: str | None) -> int:
        if not text.isdigit() or not 1 <= int(text) <= MAX_UNION:
            raise Invalid(f"choose between 1 and {MAX_UNION} windows")
        return await queue_generation(tenant_id=self._tenant_id, actor=self.actor, last=int(text), cluster=cluster)

    async def _period(self, start: datetime, end: datetime, source: str, cluster: str | None) -> int:
        async with session_scope() as session:
            rows = await policy_windows.period_windows(session, tenant_id=self._tenant_id, start=start, end=end,
                                                       source=source, limit=MAX_UNION + 1)
        if not rows:
            raise Conflict("no ready window starts in that period from that source: pick another period")
        if len(rows) > MAX_UNION:
            raise Invalid(f"the period holds more than {MAX_UNION} windows: choose a shorter one")
        return await queue_generation(tenant_id=self._tenant_id, actor=self.actor, start=start, end=end,
                                      source=source, cluster=cluster)

    @rx.event
    @guarded("analyst")
    async def cancel(self) -> None:
        """Cancel the running generation (ARQ abort; the run ends as cancelled)."""
        if not self._run:
            self._say("no generation of yours is running", error=True)
            return
        try:
            await control.cancel_run(tenant_id=self._tenant_id, job_run_id=self._run, actor=self.actor)
        except Conflict as exc:
            self._say(f"Not cancelled: {exc.message}", error=True)
            return
        self.running, self.progress_text = False, "cancelled"
        self._say("Generation cancelled: no policy was stored.", error=False)

    def _say(self, text: str, *, error: bool) -> None:
        self.message, self.message_error = text, error

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """Our run's progress, its failure or cancellation, and its result."""
        data = event.get("data", {})
        if event.get("type") == "job.updated":
            if data.get("id") != self._run or not self._run:
                return
            self.progress = int(100 * float(data.get("progress") or 0))
            self.progress_text = str(data.get("progress_message") or data.get("status", ""))
            if data.get("status") in ("failed", "cancelled"):
                self.running = False
                self._say(f"Generation {data['status']}: {data.get('error') or 'see the Jobs page'}", error=True)
            return
        if data.get("action") == "generated" and data.get("run") == self._run and self._run:
            self.running, self.progress, self.progress_text = False, 100, "done"
            self._say(generation_message(data), error=False)
            listing = await self.get_state(PoliciesState)
            await listing._refresh()
