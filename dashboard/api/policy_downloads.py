"""Policy downloads: one policy's YAML, and the bundle of every approved and deployed policy.

`GET /api/v1/policies/{id}/download` answers the policy's YAML as an attachment
(`<namespace>-<name>.yaml`), whatever its status. `GET /api/v1/policies/bundle/approved` answers one
multi-document YAML file (`---` between documents, ordered by namespace then name) holding every
approved and deployed policy of the tenant, ready for `kubectl apply -f`; 404 when there is none. A bundle
holds one cluster's policies (issue 19 A4): `?cluster=<name>` picks it; without it, a tenant whose policies span
several clusters gets 409 naming them (single-cluster tenants get their one bundle, as before).
Registered before the policies router so `bundle` is never read as a policy id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response

from dashboard.api.deps import Caller, DbSession
from dashboard.api.errors import ApiError
from jobs.integrations.gitops.bundle import (
    YAML_MIME,
    bundle_filename,
    bundle_text,
    by_cluster,
    policy_filename,
    policy_text,
)
from models.queries import gitops as gitops_queries
from models.queries import tenancy

router = APIRouter(prefix="/policies")
YAML_TYPE = f"{YAML_MIME}; charset=utf-8"
YAML_ANSWER: dict[int | str, dict[str, Any]] = {200: {"content": {"application/yaml": {"schema": {"type": "string"}}}}}


def attachment(text: str, filename: str) -> Response:
    """`text` as a YAML file download."""
    return Response(text, media_type=YAML_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/bundle/approved", response_class=Response, responses=YAML_ANSWER)
async def download_bundle(caller: Caller, session: DbSession, cluster: str | None = None) -> Response:
    """All approved and deployed policies of one cluster as one multi-document YAML attachment."""
    caller.require("viewer")
    clusters = by_cluster(await gitops_queries.list_released_policies(session, tenant_id=caller.tenant_id))
    if cluster is None and len(clusters) > 1:
        raise ApiError(409, "conflict", f"the approved policies span clusters {', '.join(clusters)}: "
                                        "download one cluster's bundle with ?cluster=<name>")
    name = cluster if cluster is not None else next(iter(clusters), "")
    policies = clusters.get(name, [])
    if not policies:
        where = f" in cluster {cluster}" if cluster is not None else ""
        raise ApiError(404, "not_found", f"no approved or deployed policies{where} yet: approve one first")
    tenant = await tenancy.get_tenant(session, tenant_id=caller.tenant_id)
    now = datetime.now(UTC)
    return attachment(bundle_text(policies, tenant_name=tenant.name, now=now, cluster=name),
                      bundle_filename(tenant.name, now, name))


@router.get("/{policy_id}/download", response_class=Response, responses=YAML_ANSWER)
async def download_policy(caller: Caller, session: DbSession, policy_id: int) -> Response:
    """One policy's YAML as an attachment."""
    caller.require("viewer")
    policy = await gitops_queries.get_policy(session, tenant_id=caller.tenant_id, policy_id=policy_id)
    return attachment(policy_text(policy), policy_filename(policy))
