"""The Policies page list: filters, each policy's observation behind it, and coverage per (cluster, namespace)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from models.db import session_scope
from models.policy import POLICY_STATUSES
from models.public.policy import PolicyPublic
from models.queries import policies as policy_queries
from models.queries import tenancy
from state.base import AppState, guarded
from state.figures import coverage_figure, coverage_place
from state.live import listens_to

PAGE_SIZE = 100
ANY = "any"
CURRENT = "current"


def observation_text(check: dict[str, Any], min_hours: int) -> tuple[str, bool]:
    """How long and how much traffic a policy was learned from, and whether that is below the tenant minimum."""
    if not check.get("observed_from") or not check.get("observed_to"):
        return "not recorded (generated before spans were kept)", False
    first, last = datetime.fromisoformat(check["observed_from"]), datetime.fromisoformat(check["observed_to"])
    hours = (last - first).total_seconds() / 3600
    span = f"{hours / 24:.1f} days" if hours >= 48 else (f"{hours:.1f} h" if hours >= 1 else
                                                         f"{hours * 60:.0f} min")
    flows, windows = int(check.get("observed_flows") or 0), int(check.get("observed_windows") or 0)
    return f"{span}, {flows:,} flows in {windows} window(s)", hours < min_hours


def policy_row(policy: dict[str, Any], min_hours: int = 24) -> dict[str, str]:
    """A policy version as the table shows it."""
    check = policy["verification"]
    if check["exact"]:
        proof = f"exact ({check['observed']})"
    else:
        proof = f"+{check['allowed_not_observed_count']} / -{check['observed_not_allowed_count']}"
    observed, brief = observation_text(check, min_hours)
    return {
        "id": str(policy["id"]), "name": policy["name"], "namespace": policy["namespace"],
        "cluster": policy.get("cluster", "default"),
        "workload": policy["workload"], "status": policy["status"], "version": f"v{policy['version']}",
        "proof": proof, "exact": "yes" if check["exact"] else "no", "notes": str(len(policy["notes"])),
        "updated": policy["updated_at"][:16].replace("T", " "), "observed": observed,
        "brief": f"learned from less than the tenant minimum of {min_hours} h" if brief else "",
    }


def coverage_note(coverage: dict[str, Any]) -> str:
    """What the coverage is measured on, or why there is none, in words."""
    ready = coverage.get("ready_snapshots", 0)
    if not ready:
        return "No snapshot yet: coverage appears once flows are ingested."
    if coverage.get("snapshot_id") is None:
        return (f"{ready} snapshot(s), none holding Kubernetes workloads (their flows name addresses only, "
                "e.g. Zeek or VPC flow logs): coverage needs workload flows such as Hubble's.")
    start = str(coverage.get("window_start") or "")[:16].replace("T", " ")
    return f"Measured on the window of {start} UTC, the newest of {ready} snapshot(s) that holds workloads."


@listens_to("policy.updated")
class PoliciesState(AppState):
    rows: list[dict[str, str]] = []
    total: int = 0
    filters: dict[str, str] = {"status": CURRENT, "namespace": ANY, "text": ""}
    namespaces: list[str] = [ANY]
    coverage: list[dict[str, str]] = []
    coverage_total: str = ""
    coverage_chart: go.Figure = go.Figure()
    coverage_note: str = ""
    min_hours: int = 24

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
            tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
        self.min_hours = tenant.policy_min_observation_hours
        self.rows = [policy_row(PolicyPublic.of(r).model_dump(), self.min_hours) for r in rows]
        self.coverage_note = coverage_note(coverage)
        self.coverage = [{**{k: str(v) for k, v in r.items()}, "place": coverage_place(r)}
                         for r in coverage["namespaces"]]
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

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """A generation or review anywhere in the tenant refreshes the list."""
        if event.get("type") == "policy.updated":
            await self._refresh()
