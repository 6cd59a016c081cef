"""Request dependencies: the API token's principal and a database session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from dashboard.api.errors import ApiError
from jobs.auth import clients, ratelimit
from jobs.runtime.connections import get_redis
from jobs.runtime.logs import tenant_id_var
from models.db import session_scope
from models.queries import tenancy
from models.settings import get_settings
from models.tenancy import ROLE_RANK


@dataclass(frozen=True)
class Principal:
    """Who calls: always from the token, never from a parameter."""

    tenant_id: int
    role: str
    actor: str
    token_id: int = 0

    def require(self, role: str) -> None:
        """Refuse unless the principal's role is at least `role`."""
        if ROLE_RANK[self.role] < ROLE_RANK[role]:
            raise ApiError(403, "forbidden", f"this action needs role {role} or higher")


async def db_session() -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the route returns."""
    async with session_scope() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session)]


def too_many(exc: ratelimit.RateLimited) -> ApiError:
    """A used-up rate limit as the API's 429 with `Retry-After`."""
    return ApiError(429, "rate_limited", str(exc), {"Retry-After": str(exc.retry_after)})


def client_address(request: Request) -> str:
    """The client's address: the peer, or what a proxy of `SG_TRUSTED_PROXIES` says in X-Forwarded-For."""
    peer = request.client.host if request.client else "unknown"
    return clients.client_address(peer, request.headers.get("x-forwarded-for", ""),
                                  get_settings().trusted_proxy_networks)


async def _refuse_bad_token(address: str, message: str) -> ApiError:
    # Only failures are counted and throttled: a valid token from the same address is never refused here.
    failures = ratelimit.token_failure_limit(get_settings())
    try:
        await ratelimit.enforce(get_redis(), failures, address)
    except ratelimit.RateLimited as exc:
        return too_many(exc)
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


async def token_principal(request: Request, session: DbSession) -> Principal:
    """Authenticate `Authorization: Bearer <api token>`; bad tokens are throttled per address, good ones per token."""
    settings, redis = get_settings(), get_redis()
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "unauthorized", "missing bearer token", {"WWW-Authenticate": "Bearer"})
    identity = await tenancy.authenticate_token(session, secret=secret.strip())
    if identity is None:
        raise await _refuse_bad_token(client_address(request), "invalid or revoked token")
    token = identity.token
    try:
        await ratelimit.enforce(redis, ratelimit.api_request_limit(settings), str(token.id))
    except ratelimit.RateLimited as exc:
        raise too_many(exc) from exc
    # Log lines of this request carry the tenant (jobs.runtime.logs).
    tenant_id_var.set(token.tenant_id)
    # A token acts for its user (never above their current role) or a service: the four-eyes rule compares persons.
    return Principal(tenant_id=token.tenant_id, role=identity.role, actor=identity.actor, token_id=token.id or 0)


Caller = Annotated[Principal, Depends(token_principal)]


async def limit_flow_push(caller: Principal) -> None:
    """Refuse a flow push with 429 when the tenant pushed too often in the last minute."""
    try:
        await ratelimit.enforce(get_redis(), ratelimit.flow_push_limit(get_settings()), str(caller.tenant_id))
    except ratelimit.RateLimited as exc:
        raise too_many(exc) from exc
