"""Download handlers for any page: one policy's YAML, or the bundle of approved and deployed policies.

Wire a button with `on_click=PolicyDownloadState.download_policy(policy_id)` or
`PolicyDownloadState.download_bundle`; show `PolicyDownloadState.download_message` for refusals. A tenant with
policies in several clusters gets one bundle file per cluster (issue 19 A4: each is applied to its cluster).
The tenant always comes from the session, never from the event.
"""

from __future__ import annotations

from datetime import UTC, datetime

import reflex as rx
from reflex_base.event import EventSpec

from jobs.integrations.gitops.bundle import (
    YAML_MIME,
    bundle_filename,
    bundle_text,
    by_cluster,
    policy_filename,
    policy_text,
)
from models.db import session_scope
from models.errors import NotFound
from models.queries import gitops as gitops_queries
from models.queries import tenancy
from state.base import AppState, guarded


class PolicyDownloadState(AppState):
    download_message: str = ""

    @rx.event
    @guarded("viewer")
    async def download_policy(self, policy_id: int | str) -> EventSpec | None:
        """The browser saves `<namespace>-<name>.yaml` of one of the tenant's policies (id as int or digits)."""
        try:
            if not str(policy_id).isdigit():
                raise NotFound(f"policy {policy_id} not found")
            async with session_scope() as session:
                policy = await gitops_queries.get_policy(session, tenant_id=self._tenant_id,
                                                         policy_id=int(policy_id))
        except NotFound as exc:
            self.download_message = exc.message
            return None
        self.download_message = ""
        return rx.download(data=policy_text(policy), filename=policy_filename(policy), mime_type=YAML_MIME)

    @rx.event
    @guarded("viewer")
    async def download_bundle(self) -> list[EventSpec] | None:
        """The browser saves every approved and deployed policy as one multi-document YAML file per cluster."""
        tenant_id = self._tenant_id
        async with session_scope() as session:
            policies = await gitops_queries.list_released_policies(session, tenant_id=tenant_id)
            tenant = await tenancy.get_tenant(session, tenant_id=tenant_id)
        if not policies:
            self.download_message = "No approved or deployed policies yet: approve one to download a bundle."
            return None
        now = datetime.now(UTC)
        clusters = by_cluster(policies)
        files = f" in {len(clusters)} files, one per cluster" if len(clusters) > 1 else ""
        self.download_message = f"Downloading {len(policies)} policies{files}."
        return [rx.download(data=bundle_text(some, tenant_name=tenant.name, now=now, cluster=cluster),
                            filename=bundle_filename(tenant.name, now, cluster), mime_type=YAML_MIME)
                for cluster, some in clusters.items()]
