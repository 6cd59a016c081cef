"""The Policies › Readiness page (issue 19 Part B): namespaces' modes and readiness, the mode switch (approvers, with
a reason and a confirmation; enforce refused with the reason while not ready), and the open violations with
Amend / Confirm. Live: `violation.changed` (the monitor job) and `policy.updated` (an approval) reload it."""

from __future__ import annotations

from typing import Any

import reflex as rx

from jobs.tasks.monitor import amend_violation, queue_monitor
from models.db import session_scope
from models.drift import DriftEvent
from models.errors import SecureGuardError
from models.namespaces import NAMESPACE_MODES
from models.queries import drift as drift_queries
from models.queries import namespaces as namespace_queries
from models.queries import tenancy
from models.queries import violations as violation_queries
from models.queries.namespaces import NamespaceStatus, ReadinessRule
from state.base import AppState, guarded
from state.live import listens_to

MAX_VIOLATIONS = 200


def namespace_row(status: NamespaceStatus, rule: ReadinessRule) -> dict[str, str]:
    """One namespace as the table shows it (strings only)."""
    s = status
    return {
        "cluster": s.cluster,
        "namespace": s.namespace,
        "mode": s.mode,
        "key": f"{s.cluster}/{s.namespace}",
        "days": f"{s.days_in_monitor:.1f} of {rule.days}" if s.mode != "learn" else "—",
        "open": str(s.open_violations),
        "blocked": f"{s.blocked_flows:,} in the last {s.windows} window{'' if s.windows == 1 else 's'}",
        "ready": "ready" if s.ready else "not ready",
        "why": s.not_ready_because or "the readiness rule holds",
        "changed": f"{s.changed_by}: {s.reason}" if s.changed_by else "",
    }


def violation_row(row: DriftEvent) -> dict[str, str]:
    port = f":{row.dst_port}" if row.dst_port is not None else ""
    return {
        "id": str(row.id),
        "flow": f"{row.src} → {row.dst}{port}/{row.protocol}",
        "explanation": row.explanation,
        "risk": str(row.risk),
        "severity": row.severity,
        "status": row.status,
        "window": row.window_start.strftime("%Y-%m-%d %H:%M"),
        "policy_id": str(row.policy_id or ""),
        "flows": str((row.evidence or {}).get("flows", "")),
    }


@listens_to("violation.changed", "policy.updated")
class ReadinessState(AppState):
    namespaces: list[dict[str, str]] = []
    violations: list[dict[str, str]] = []
    rule: str = ""
    loaded: bool = False
    message: str = ""
    is_error: bool = False
    # the mode change awaiting confirmation: {"cluster", "namespace", "mode"}; empty when none
    pending: dict[str, str] = {}
    form_key: int = 0

    async def _reload(self) -> None:
        async with session_scope() as session:
            tenant = await tenancy.get_tenant(session, tenant_id=self._tenant_id)
            rule = namespace_queries.readiness_rule(tenant)
            rows = await namespace_queries.list_namespaces(session, tenant_id=self._tenant_id, tenant=tenant)
            found, _ = await drift_queries.list_events(
                session, tenant_id=self._tenant_id, kind="violation", status="open", limit=MAX_VIOLATIONS
            )
        self.namespaces = [namespace_row(r, rule) for r in rows]
        self.violations = [violation_row(v) for v in found]
        self.rule = f"at least {rule.days} days in monitor and at most {rule.max_open} open violations"
        self.loaded = True

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """The namespaces with their modes and readiness, and the open violations."""
        self.pending, self.message, self.is_error = {}, "", False
        await self._reload()

    @rx.event
    @guarded("approver")
    def ask_mode(self, cluster: str, namespace: str, mode: str) -> None:
        """Open the confirmation of a mode change (it still needs a reason)."""
        if mode not in NAMESPACE_MODES:
            self.message, self.is_error = f"Unknown mode {mode!r}.", True
            return
        self.pending = {"cluster": cluster, "namespace": namespace, "mode": mode}
        self.form_key += 1

    @rx.event
    @guarded("viewer")
    def cancel_mode(self) -> None:
        """Close the confirmation without changing anything."""
        self.pending = {}
        self.message, self.is_error = "Nothing changed: the mode change was cancelled.", False

    @rx.event
    @guarded("approver")
    async def set_mode(self, form: dict[str, Any]) -> None:
        """Change the pending namespace's mode with the reason given (audited); enforce only when ready."""
        if not self.pending:
            self.message, self.is_error = "Choose a namespace and a mode first.", True
            return
        cluster, namespace, mode = self.pending["cluster"], self.pending["namespace"], self.pending["mode"]
        try:
            async with session_scope() as session:
                tenant = await tenancy.get_tenant(session, tenant_id=self._tenant_id)
                await namespace_queries.set_mode(
                    session,
                    tenant_id=self._tenant_id,
                    tenant=tenant,
                    cluster=cluster,
                    namespace=namespace,
                    mode=mode,
                    reason=str(form.get("reason", "")),
                    actor=self.actor,
                    role=self._role,
                )
        except SecureGuardError as exc:
            # the refusal says why; the confirmation closes (asking again would get the same answer)
            self.pending = {}
            self.message, self.is_error = f"Not changed: {exc.message}", True
            return
        self.pending = {}
        queued = (
            await queue_monitor(tenant_id=self._tenant_id, reason=f"{namespace} set to {mode}")
            if mode != "learn"
            else None
        )
        then = " Its newest window is being evaluated now." if queued else ""
        self.message, self.is_error = f"{namespace} is now in {mode}.{then}", False
        await self._reload()

    @rx.event
    @guarded("analyst")
    async def amend(self, event_id: str) -> None:
        """A new draft version of the violation's policy that admits its flow (review it on Policies)."""
        try:
            policy_id = await amend_violation(
                tenant_id=self._tenant_id, event_id=int(event_id), actor=self.actor, role=self._role
            )
        except (SecureGuardError, ValueError) as exc:
            self.message, self.is_error = f"Not amended: {getattr(exc, 'message', exc)}", True
            return
        self.message, self.is_error = (
            (
                f"Draft policy {policy_id} admits this flow: submit it for review on "
                f"Policies. The violation stays open until a version admitting it is "
                f"approved."
            ),
            False,
        )

    @rx.event
    @guarded("analyst")
    async def confirm(self, event_id: str) -> None:
        """Keep the flow blocked: the violation becomes a true positive and no longer counts as open."""
        try:
            async with session_scope() as session:
                await violation_queries.confirm_violation(
                    session,
                    tenant_id=self._tenant_id,
                    event_id=int(event_id),
                    actor=self.actor,
                    role=self._role,
                    user_id=self._user_id or None,
                )
        except (SecureGuardError, ValueError) as exc:
            self.message, self.is_error = f"Not confirmed: {getattr(exc, 'message', exc)}", True
            return
        self.message, self.is_error = f"Violation {event_id} confirmed: the flow stays blocked.", False
        await self._reload()

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """The monitor job stored or resolved violations, or a policy changed: show the page again."""
        if self.loaded and self._tenant_id:
            await self._reload()
