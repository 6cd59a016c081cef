"""One policy version in review: YAML, diff, proof, notes, impact preview, submit / approve / reject.

Every transition is decided by the query layer (role, four eyes, state), so the page shows the
refusal in words rather than relying on hidden buttons.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from jobs.engines.policy.diff import diff_yaml
from jobs.tasks.policy import MAX_IMPACT_SNAPSHOTS, announce_transition, audit_refusal, gitops_configured, policy_impact
from models.db import session_scope
from models.errors import Conflict, Forbidden, NotFound
from models.public.policy import PolicyPublic, ReviewPublic
from models.queries import policies as policy_queries
from models.queries import tenancy
from models.tenancy import person_of
from state.base import AppState, guarded
from state.policies import PoliciesState, policy_row

ACTIONS = {"submit": "submitted", "approve": "approved", "reject": "rejected"}
SHOWN = 50


def _connection(conn: dict[str, Any]) -> str:
    port = "any port" if conn.get("port") is None else str(conn["port"])
    if conn.get("end_port"):
        port += f"-{conn['end_port']}"
    return f"{conn['src']} → {conn['dst']} {port}/{conn['protocol']}"


def _blocked(item: dict[str, Any]) -> dict[str, str]:
    port = "" if item["dst_port"] is None else f":{item['dst_port']}"
    return {"flow": f"{item['src']} → {item['dst']}{port}/{item['protocol']}", "flows": f"{item['flows']:,}",
            "bytes": f"{item['bytes']:,}", "snapshots": str(item["snapshots"]), "side": item["side"]}


def impact_summary(found: dict[str, Any]) -> str:
    """The preview's verdict with what it was checked against: windows of the namespace, and flows."""
    namespace, windows = found.get("namespace", ""), found["snapshots"]
    if not windows:
        return f"No snapshot holds workloads of {namespace}: nothing to preview against."
    span = f"{str(found['windows_from'])[:16].replace('T', ' ')} to {str(found['windows_to'])[:16].replace('T', ' ')}"
    checked = (f"the {windows} newest window(s) holding workloads of {namespace} ({span} UTC, "
               f"{found['checked_flows']:,} flows of the pods it selects)")
    if not found["blocked"]:
        return f"Blocks none of the traffic in {checked}."
    blocked = f"{found['blocked_edges']} observed connection(s), {found['blocked_flows']:,} flows"
    return f"Would block {blocked}, in {checked}."


async def _shipping(tenant_id: int, action: str, run: int | None) -> str:
    if action != "approve":
        return ""
    if run:
        return f" GitOps job #{run} is opening a pull request (see Jobs)."
    if not await gitops_configured(tenant_id=tenant_id):
        return (" GitOps is not configured, so no pull request is opened: download the YAML, or set a repository"
                " on the GitOps page.")
    return " No pull request was queued."


class PolicyDetailState(AppState):
    policy: dict[str, str] = {}
    yaml_text: str = ""
    diff_text: str = ""
    notes: list[str] = []
    proof: dict[str, str] = {}
    extra: list[str] = []
    missing: list[str] = []
    reviews: list[dict[str, str]] = []
    impact: list[dict[str, str]] = []
    impact_summary: str = ""
    impact_snapshots: str = "24"
    notice: str = ""
    notice_error: bool = False
    confirming: str = ""

    @rx.var
    def is_open(self) -> bool:
        return bool(self.policy)

    @rx.var
    def can_review(self) -> bool:
        return self.role in ("approver", "admin") and self.policy.get("status") == "pending"

    @rx.var
    def approve_blocked(self) -> str:
        """Why this user may not approve (four eyes: they submitted it), shown beside the disabled button."""
        if self.policy.get("four_eyes") == "yes" and self.policy.get("submitted_by") and (
                person_of(self.policy.get("submitted_by", "")) == person_of(self.user_email)):
            return "You submitted this policy: under the four-eyes rule another approver must approve it."
        return ""

    @rx.var
    def can_submit(self) -> bool:
        return self.role in ("analyst", "approver", "admin") and self.policy.get("status") == "draft"

    @rx.event
    @guarded("viewer")
    async def open_from_url(self) -> None:
        """on_load: `?policy=ID` opens that policy."""
        policy_id = self.router.url.query_parameters.get("policy", "")
        if policy_id.isdigit():
            await self._open(int(policy_id))
        elif policy_id:
            self.policy, self.notice, self.notice_error = {}, f"policy {policy_id[:40]!r} not found", True

    @rx.event
    @guarded("viewer")
    async def open_policy(self, policy_id: str) -> None:
        self.notice, self.confirming = "", ""
        await self._open(int(policy_id))

    async def _open(self, policy_id: int) -> None:
        tenant_id = self._tenant_id
        try:
            async with session_scope() as session:
                row = await policy_queries.get_policy(session, tenant_id=tenant_id, policy_id=policy_id)
                approved = await policy_queries.approved_version(session, tenant_id=tenant_id, policy=row)
                reviews = await policy_queries.list_reviews(session, tenant_id=tenant_id, policy_id=policy_id)
                tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
                four_eyes = await policy_queries.four_eyes(session, tenant_id=tenant_id)
        except NotFound as exc:
            self.policy, self.notice, self.notice_error = {}, exc.message, True
            return
        public = PolicyPublic.of(row).model_dump()
        check = public["verification"]
        self.policy = {**policy_row(public, tenant.policy_min_observation_hours), "submitted_by": row.submitted_by,
                       "approved_id": str(approved.id) if approved else "", "four_eyes": "yes" if four_eyes else "no",
                       "gitops": "yes" if await gitops_configured(tenant_id=tenant_id) else "no"}
        self.yaml_text, self.notes = row.yaml, list(row.notes)
        self.diff_text = diff_yaml(approved.yaml if approved else None, row.yaml, name=row.name)
        self.proof = {"exact": "yes" if check["exact"] else "no", "observed": str(check["observed"]),
                      "extra": str(check["allowed_not_observed_count"]),
                      "missing": str(check["observed_not_allowed_count"]),
                      "schema": "valid" if check["schema_valid"] else "; ".join(check["schema_errors"])}
        self.extra = [_connection(c) for c in check["allowed_not_observed"][:SHOWN]]
        self.missing = [_connection(c) for c in check["observed_not_allowed"][:SHOWN]]
        self.reviews = [{k: str(v) for k, v in ReviewPublic.of(r).model_dump().items()} for r in reviews]
        await self._load_impact(tenant_id, policy_id)

    async def _load_impact(self, tenant_id: int, policy_id: int) -> None:
        count = int(self.impact_snapshots) if self.impact_snapshots.isdigit() else 24
        found = await policy_impact(tenant_id=tenant_id, policy_id=policy_id,
                                    snapshots=max(1, min(count, MAX_IMPACT_SNAPSHOTS)))
        self.impact = [_blocked(b) for b in found["blocked"][:SHOWN]]
        self.impact_summary = impact_summary(found)

    @rx.event
    @guarded("viewer")
    async def preview_impact(self, form: dict[str, Any]) -> None:
        """Re-run the impact preview over another number of snapshots."""
        text = str(form.get("snapshots", "24")).strip()
        if not text.isdigit() or not 1 <= int(text) <= MAX_IMPACT_SNAPSHOTS:
            self.notice, self.notice_error = f"choose between 1 and {MAX_IMPACT_SNAPSHOTS} snapshots", True
            return
        self.impact_snapshots = text
        try:
            await self._load_impact(self._tenant_id, int(self.policy["id"]))
        except NotFound as exc:
            self.notice, self.notice_error = exc.message, True

    @rx.event
    @guarded("viewer")
    def close(self) -> None:
        self.policy, self.notice, self.confirming = {}, "", ""

    @rx.event
    @guarded("viewer")
    def ask(self, action: str) -> None:
        """Open the confirmation of submit, approve or reject."""
        if action in ACTIONS and self.policy:
            self.confirming, self.notice = action, ""

    @rx.event
    @guarded("viewer")
    def cancel(self) -> None:
        self.confirming = ""

    @rx.event
    @guarded("viewer")
    async def confirm(self, form: dict[str, Any]) -> None:
        """Carry out the confirmed transition; a refusal (role, four eyes, state, missing reason) is shown."""
        action, self.confirming = self.confirming, ""
        reason = str(form.get("reason", "")).strip()
        steps = {"submit": policy_queries.submit_policy, "approve": policy_queries.approve_policy,
                 "reject": policy_queries.reject_policy}
        if action not in steps or not self.policy:
            return
        tenant_id = self._tenant_id
        try:
            async with session_scope() as session:
                row = await steps[action](session, tenant_id=tenant_id, policy_id=int(self.policy["id"]),
                                          actor=self.actor, role=self._role, reason=reason)
        except Forbidden as exc:
            await audit_refusal(tenant_id=tenant_id, policy_id=int(self.policy["id"]), actor=self.actor,
                                action=action, reason=exc.message)
            self.notice, self.notice_error = f"Refused: {exc.message}", True
            return
        except (Conflict, NotFound) as exc:
            self.notice, self.notice_error = f"Refused: {exc.message}", True
            return
        except ValueError as exc:
            self.notice, self.notice_error = f"Refused: {exc}", True
            return
        run = await announce_transition(tenant_id=tenant_id, policy=row, action=ACTIONS[action], actor=self.actor)
        await self._open(row.id or 0)
        self.notice_error = False
        self.notice = f"Policy {ACTIONS[action]}." + await _shipping(tenant_id, action, run)
        listing = await self.get_state(PoliciesState)
        await listing._refresh()
