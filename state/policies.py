"""The Policies page list: filters, coverage per namespace, and generation with a live result."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import reflex as rx

from jobs.tasks.policy import MAX_UNION, queue_generation
from models.db import session_scope
from models.policy import POLICY_STATUSES
from models.public.policy import PolicyPublic
from models.queries import policies as policy_queries
from state.base import AppState, guarded
from state.live import listens_to

PAGE_SIZE = 100
ANY = "any"
CURRENT = "current"
SKIPPED_SHOWN = 5


def policy_row(policy: dict[str, Any]) -> dict[str, str]:
    """A policy version as the table shows it."""
    check = policy["verification"]
    if check["exact"]:
        proof = f"exact ({check['observed']})"
    else:
        proof = f"+{check['allowed_not_observed_count']} / -{check['observed_not_allowed_count']}"
    return {
        "id": str(policy["id"]), "name": policy["name"], "namespace": policy["namespace"],
        "workload": policy["workload"], "status": policy["status"], "version": f"v{policy['version']}",
        "proof": proof, "exact": "yes" if check["exact"] else "no", "notes": str(len(policy["notes"])),
        "updated": policy["updated_at"][:16].replace("T", " "),
    }


def coverage_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """Horizontal bars: percent of each namespace's observed edges that policies in force govern."""
    figure = go.Figure(go.Bar(
        x=[r["percent"] for r in rows], y=[r["namespace"] for r in rows], orientation="h",
        text=[f"{r['covered']}/{r['edges']}" for r in rows], textposition="auto", marker={"color": "#2f7d5b"},
        hovertemplate="%{y}: %{x}% of edges covered<extra></extra>",
    ))
    figure.update_layout(height=max(160, 40 + 28 * len(rows)), margin={"l": 10, "r": 10, "t": 10, "b": 30},
                         xaxis={"range": [0, 100], "title": "% of observed edges under approved policies"},
                         template="plotly_white")
    return figure


def generation_message(data: dict[str, Any]) -> str:
    """What a finished generation did, naming the workloads that got no policy and why."""
    text = (f"Generated {data.get('policies', 0)} policies: {len(data.get('created', []))} new versions, "
            f"{data.get('unchanged', 0)} unchanged.")
    text += " The set allows exactly the observed traffic." if data.get("exact") else " The set is not exact."
    skipped = data.get("skipped", [])
    if skipped:
        named = "; ".join(f"{s['workload']} ({s['reason']})" for s in skipped[:SKIPPED_SHOWN])
        more = f" and {len(skipped) - SKIPPED_SHOWN} more" if len(skipped) > SKIPPED_SHOWN else ""
        text += f" No policy for {named}{more}."
    return text


@listens_to("policy.updated", "job.updated")
class PoliciesState(AppState):
    rows: list[dict[str, str]] = []
    total: int = 0
    filters: dict[str, str] = {"status": CURRENT, "namespace": ANY, "text": ""}
    namespaces: list[str] = [ANY]
    coverage: list[dict[str, str]] = []
    coverage_total: str = ""
    coverage_chart: go.Figure = go.Figure()
    message: str = ""
    message_error: bool = False
    generating: bool = False
    _generate_run: int = 0

    @rx.var
    def can_generate(self) -> bool:
        return self.role in ("analyst", "approver", "admin")

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """The first page of policies with the current filters, and the coverage."""
        await self._refresh()

    async def _refresh(self) -> None:
        tenant_id = self._tenant_id
        f = self.filters
        status = None if f["status"] in (ANY, CURRENT) else f["status"]
        async with session_scope() as session:
            rows, self.total = await policy_queries.list_policies(
                session, tenant_id=tenant_id, status=status, include_superseded=f["status"] == ANY,
                namespace=None if f["namespace"] == ANY else f["namespace"], text=f["text"] or None, limit=PAGE_SIZE)
            self.namespaces = [ANY, *await policy_queries.list_policy_namespaces(session, tenant_id=tenant_id)]
            coverage = await policy_queries.policy_coverage(session, tenant_id=tenant_id)
        self.rows = [policy_row(PolicyPublic.of(r).model_dump()) for r in rows]
        self.coverage = [{k: str(v) for k, v in r.items()} for r in coverage["namespaces"]]
        edges, covered = coverage["edges"], coverage["covered"]
        share = f"{covered:,} of {edges:,} observed edges ({100 * covered / edges:.0f} %)" if edges else ""
        self.coverage_total = share
        self.coverage_chart = coverage_figure(coverage["namespaces"])

    @rx.event
    @guarded("viewer")
    async def apply_filters(self, form: dict[str, Any]) -> None:
        """Status, namespace and text from the filter form."""
        status, namespace = str(form.get("status", CURRENT)), str(form.get("namespace", ANY))
        self.filters = {
            "status": status if status in (ANY, CURRENT, *POLICY_STATUSES) else CURRENT,
            "namespace": namespace, "text": str(form.get("text", "")).strip()[:200],
        }
        await self._refresh()

    @rx.event
    @guarded("analyst")
    async def generate(self, form: dict[str, Any]) -> None:
        """Queue generation from the newest snapshot, or the union of the newest N (analyst or higher)."""
        text = str(form.get("last", "1")).strip() or "1"
        if not text.isdigit() or not 1 <= int(text) <= MAX_UNION:
            self.message, self.message_error = f"choose between 1 and {MAX_UNION} snapshots", True
            return
        last = int(text)
        self._generate_run = await queue_generation(tenant_id=self._tenant_id, actor=self.actor, last=last)
        self.generating, self.message_error = True, False
        what = "the newest snapshot" if last == 1 else f"the union of the newest {last} snapshots"
        self.message = f"Generating policies from {what}: the list updates when the job finishes."

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """A generation or review anywhere in the tenant refreshes the list; our own run reports its result."""
        data = event.get("data", {})
        if event.get("type") == "job.updated":
            if data.get("id") == self._generate_run and data.get("status") == "failed":
                self.generating, self.message_error = False, True
                self.message = f"Generation failed: {data.get('error') or 'see the Jobs page'}"
            return
        if data.get("action") == "generated" and self.generating:
            self.generating, self.message_error = False, False
            self.message = generation_message(data)
        await self._refresh()
