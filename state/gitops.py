"""The GitOps page: the tenant's Git settings (admins edit; the token is write-only), a connection
test, the pull requests opened for approved policies and the last sync, all live."""

from __future__ import annotations

from typing import Any

import reflex as rx

from jobs.integrations.gitops.errors import GitopsError, TransientError
from jobs.integrations.gitops.target import check_connection
from jobs.tasks.gitops import load_target
from models.db import session_scope
from models.policy import Policy, PullRequest
from models.public.policy import GitopsConfigPublic
from models.queries import gitops as gitops_queries
from models.queries import jobs as job_queries
from state.base import AppState, guarded
from state.live import listens_to

GITOPS_JOBS = ("sync_gitops", "track_pull_requests")


def pull_row(pull: PullRequest, policy: Policy) -> dict[str, str]:
    """A pull/merge request as the table shows it (strings only)."""
    return {
        "id": str(pull.id), "policy_id": str(policy.id), "policy": f"{policy.namespace}/{policy.name}",
        "version": f"v{policy.version}",
        "policy_status": policy.status, "number": f"#{pull.number}" if pull.number else "", "url": pull.url,
        "state": pull.state, "branch": pull.branch, "updated": pull.updated_at.strftime("%Y-%m-%d %H:%M"),
    }


@listens_to("policy.updated", "job.updated")
class GitopsState(AppState):
    provider: str = "github"
    repo_url: str = ""
    base_branch: str = "main"
    folder: str = "networkpolicies"
    token_set: bool = False
    configured: bool = False
    form_key: int = 0
    message: str = ""
    message_error: bool = False
    checks: list[str] = []
    checks_ok: bool = False
    checking: bool = False
    pulls: list[dict[str, str]] = []
    last_sync: str = ""
    last_sync_failed: bool = False

    @rx.var
    def can_edit(self) -> bool:
        return self.role == "admin"

    @rx.event
    @guarded("viewer")
    async def load(self) -> None:
        """Settings (never the token) and pull requests of the session's tenant."""
        tenant_id = self._tenant_id
        async with session_scope() as session:
            config = await gitops_queries.get_config(session, tenant_id=tenant_id)
        self._show(GitopsConfigPublic.of(config).model_dump())
        await self._reload_pulls(tenant_id)

    def _show(self, public: dict[str, Any]) -> None:
        # Like GET /api/v1/gitops, the repository's whereabouts are for admins; others learn only that it is set.
        admin = self._role == "admin"
        self.provider, self.repo_url = public["provider"], public["repo_url"] if admin else ""
        self.base_branch, self.folder = (public["base_branch"], public["folder"]) if admin else ("", "")
        self.token_set, self.configured = public["token_set"], public["configured"]
        self.form_key += 1  # remount the form so its fields show the saved values

    async def _reload_pulls(self, tenant_id: int) -> None:
        async with session_scope() as session:
            rows = await gitops_queries.list_pulls(session, tenant_id=tenant_id, limit=200)
            runs = await job_queries.list_job_runs(session, tenant_id=tenant_id, name="sync_gitops", limit=1)
        self.pulls = [pull_row(pull, policy) for pull, policy in rows]
        if runs:
            run = runs[0]
            detail = run.error if run.status == "failed" else str(
                run.result.get("reason") or run.result.get("pull_request") or run.result.get("status") or "")
            if self._role != "admin":  # a sync error names the repository and what went wrong there
                detail = "" if run.status == "failed" else detail
            self.last_sync = f"Last sync (job #{run.id}): {run.status}" + (f" — {detail}" if detail else "")
            self.last_sync_failed = run.status == "failed"

    @rx.event
    @guarded("admin")
    async def save_settings(self, form: dict[str, Any]) -> None:
        """Validate and save; an empty token field keeps the stored token, a value replaces it."""
        tenant_id = self._tenant_id
        try:
            async with session_scope() as session:
                config = await gitops_queries.put_config(
                    session, tenant_id=tenant_id, actor=self.actor, provider=str(form.get("provider", "")),
                    repo_url=str(form.get("repo_url", "")), base_branch=str(form.get("base_branch", "")),
                    folder=str(form.get("folder", "")), token=str(form.get("token", "")),
                )
                public = GitopsConfigPublic.of(config).model_dump()
        except ValueError as exc:
            self.message, self.message_error = f"Not saved: {exc}.", True
            return
        self._show(public)
        self.checks = []
        replaced = " The token was replaced." if str(form.get("token", "")).strip() else ""
        self.message, self.message_error = f"Settings saved.{replaced}", False

    @rx.event(background=True)
    @guarded("admin")
    async def test_connection(self) -> None:
        """Try the saved settings: git reaches the base branch; the provider API accepts the token."""
        async with self:
            tenant_id = self._tenant_id
            self.checking, self.checks = True, []
        checks, ok = await _run_checks(tenant_id)
        async with self:
            self.checks, self.checks_ok, self.checking = checks, ok, False

    async def _on_live_event(self, event: dict[str, Any]) -> None:
        """A policy shipped or merged, or a GitOps job finished: refresh the table."""
        data = event.get("data", {})
        if event.get("type") == "job.updated" and (
            data.get("name") not in GITOPS_JOBS or data.get("status") not in ("succeeded", "failed", "retrying")
        ):
            return
        await self._reload_pulls(self._tenant_id)


async def _run_checks(tenant_id: int) -> tuple[list[str], bool]:
    # load_target applies the operator's URL rules again: a URL saved before them is refused here too.
    try:
        target = await load_target(tenant_id)
        if target is None:
            return ["Save a repository first."], False
        return await check_connection(target), True
    except (GitopsError, TransientError) as exc:
        return [exc.message], False
