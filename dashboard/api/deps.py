"""Request dependencies: the API token's principal and a database session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from dashboard.api.errors import ApiError
from models.db import session_scope
from models.queries import tenancy
from models.tenancy import ROLE_RANK


@dataclass(frozen=True)
class Principal:
    """Who calls: always from the token, never from a parameter."""

    tenant_id: int
    role: str
    actor: str

    def require(self, role: str) -> None:
        """Refuse unless the principal's role is at least `role`."""
        if ROLE_RANK[self.role] < ROLE_RANK[role]:
            raise ApiError(403, "forbidden", f"this action needs role {role} or higher")


async def db_session() -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the route returns."""
    async with session_scope() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session)]


async def token_principal(request: Request, session: DbSession) -> Principal:
    """Authenticate `Authorization: Bearer <api token>`."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "unauthorized", "missing bearer token", {"WWW-Authenticate": "Bearer"})
    token = await tenancy.authenticate_token(session, secret=secret.strip())
    if token is None:
        raise ApiError(401, "unauthorized", "invalid or revoked token", {"WWW-Authenticate": "Bearer"})
    return Principal(tenant_id=token.tenant_id, role=token.role, actor=f"token:{token.prefix}")


Caller = Annotated[Principal, Depends(token_principal)]
