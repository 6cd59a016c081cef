"""Security suites: two tenants, tenant A's data marked, and a harness that calls Reflex event handlers directly."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy
from reflex.state import BaseState, State

import dashboard.dashboard  # noqa: F401  (registers every page and state, others' included)
from dashboard.api.app import build_api
from jobs.runtime.uploads import receive_upload
from models.db import session_scope
from models.errors import Forbidden
from models.incidents import IncidentRow
from models.policy import Policy
from models.queries import graph as graph_queries
from models.queries import incidents as incident_queries
from models.queries import notifications as notification_queries
from models.queries import tenancy
from models.queries import whitelist as whitelist_queries
from models.queries.audit import record_audit
from models.queries.drift_store import replace_snapshot_events
from state.base import AppState
from tests.integration.drift_support import fake_event

# Every string of tenant A's data carries this; it must never reach tenant B.
MARKER = "zqxmarker"
ROLES = ("viewer", "analyst", "approver", "admin")


@dataclass
class Seeded:
    """One tenant's ids and secrets: users and tokens per role, and one of each kind of object."""

    tenant_id: int
    name: str
    users: dict[str, int]
    tokens: dict[str, str]
    token_ids: dict[str, int]
    ids: dict[str, str]

    def email(self, role: str) -> str:
        return f"{role}@{self.name}.test"


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def seed_tenant(name: str) -> Seeded:
    """A tenant with a user and a token per role, a snapshot with a node, a drift event in an incident, a
    whitelist entry, an upload (and its queued job), and audit entries; every text holds MARKER when `name` does."""
    async with session_scope() as session:
        tenant = await tenancy.create_tenant(session, name=name)
        tid = tenant.id or 0
        users, tokens, token_ids = {}, {}, {}
        for role in ROLES:
            user = await tenancy.create_user(session, tenant_id=tid, email=f"{role}@{name}.test", role=role,
                                             password="correct-horse-1")
            token, secret = await tenancy.create_api_token(session, tenant_id=tid, role=role, name=f"{name}-{role}",
                                                           user_id=user.id)
            users[role], tokens[role], token_ids[role] = user.id or 0, secret, token.id or 0
        window = datetime(2026, 1, 5, 10, tzinfo=UTC)
        node = {"key": f"{name}/db", "name": f"{name}-db", "kind": "workload", "namespace": name,
                "labels": {"app": name}}
        edge = {"src": f"{name}/db", "dst": f"{name}/db", "dst_port": 5432, "protocol": "tcp", "bytes": 1,
                "packets": 1, "flows": 1, "rejected": 0, "first_seen": window, "last_seen": window}
        snapshot = await graph_queries.replace_snapshot(
            session, tenant_id=tid, window_start=window, window_end=window + timedelta(hours=1), source="test",
            nodes=[node], edges=[edge])
        changes = await replace_snapshot_events(
            session, tenant_id=tid, snapshot_id=snapshot.id or 0, window_start=window,
            events=[fake_event("new_edge", f"{name}/api", f"{name}/db", 5432, explanation=f"{name} explanation")])
        # an integration before the incident, so the upsert queues a delivery of the tenant's too
        integration, _ = await notification_queries.create_integration(
            session, tenant_id=tid, actor=f"admin@{name}.test", kind="syslog", name=f"{name}-siem", min_severity="low",
            config={"host": "127.0.0.1", "port": 9})
        incident_ids = await incident_queries.upsert_incidents(session, tenant_id=tid, rows=[IncidentRow(
            key=f"new_edge|internal|{name}/api|", kind="new_edge", direction="internal", entity=f"{name}/api",
            service="", first_seen=window, first_reported=window, last_seen=window, peak_risk=50, severity="medium",
            score=50.0, rank_note="", events=1, attempts=1, answered=1, summary=f"{name} incident",
            totals={"shape": f"new_edge|internal||{name}"})])
        incident_id = next(iter(incident_ids.values()))
        await incident_queries.link_events(session, tenant_id=tid, links=[(changes.inserted[0]["id"], incident_id)])
        entry = await whitelist_queries.create_whitelist(
            session, tenant_id=tid, src_pattern=f"{name}-src", dst_pattern="*", port=None, expires_at=None,
            reason=f"{name} reason", author=f"admin@{name}.test")
        await record_audit(session, tenant_id=tid, actor=f"admin@{name}.test", action="login", target=name)
        policy = Policy(tenant_id=tid, name=f"{name}-db", namespace=name, status="approved",
                        yaml=f"kind: NetworkPolicy\nmetadata:\n  name: {name}-db\n  namespace: {name}\n")
        session.add(policy)
        await session.flush()
    upload, run = await receive_upload(_chunks(f"{name} not a flow file\n".encode()), tenant_id=tid,
                                       filename=f"{name}.log", fmt="auto", created_by=f"admin@{name}.test")
    ids = {"event": str(changes.inserted[0]["id"]), "snapshot": str(snapshot.id), "job": str(run.id),
           "token": str(token_ids["viewer"]), "user": str(users["viewer"]), "upload": str(upload.id),
           "whitelist": str(entry.id), "node": f"{name}/db", "tenant": name, "policy": str(policy.id),
           "incident": str(incident_id), "integration": str(integration.id)}
    return Seeded(tid, name, users, tokens, token_ids, ids)


@pytest.fixture
async def two_tenants(app_ctx: str) -> tuple[Seeded, Seeded]:
    """Tenant A (every text marked) and tenant B."""
    return await seed_tenant(f"alpha-{MARKER}"), await seed_tenant("bravo")


@pytest.fixture
async def api_client(app_ctx: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_api())
    async with httpx.AsyncClient(transport=transport, base_url="http://sg.test") as client:
        yield client


def fill(value: Any, ids: dict[str, str]) -> Any:
    """Placeholders like "{event}" replaced by the given tenant's ids, inside lists and dicts too."""
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, tuple):
        return tuple(fill(v, ids) for v in value)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def our_state_handlers() -> list[tuple[type[BaseState], str]]:
    """Every (state class, handler name) of SecureGuard's Reflex states, found by walking the state tree."""
    found: list[tuple[type[BaseState], str]] = []

    def walk(cls: type[BaseState]) -> None:
        for sub in sorted(cls.get_substates(), key=lambda s: s.__name__):
            if sub.__module__.split(".")[0] in ("state", "dashboard"):
                found.extend((sub, name) for name in sub.event_handlers if name != "setvar")
            walk(sub)

    walk(State)
    return found


@dataclass
class Call:
    """What happened when a handler ran: the root state after it, the roles it asked for, whether it was refused."""

    root: BaseState
    required: list[str]
    refused: bool
    result: Any

    def dump(self) -> str:
        return json.dumps(self.root.dict(), default=str)


@pytest.fixture
def require_spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, bool]]]:
    """Records every AppState._require(role) call: (role, refused)."""
    calls: list[tuple[str, bool]] = []
    original = AppState._require

    def spy(self: AppState, role: str) -> int:
        try:
            tenant_id = original(self, role)
        except Forbidden:
            calls.append((role, True))
            raise
        calls.append((role, False))
        return tenant_id

    monkeypatch.setattr(AppState, "_require", spy)
    yield calls


async def call_handler(
    cls: type[BaseState], name: str, args: tuple[Any, ...], prep: dict[str, Any], *,
    tenant: Seeded | None, role: str | None, spy: list[tuple[str, bool]],
) -> Call:
    """Run one handler on a fresh state tree whose identity is `role` of `tenant` (or nobody)."""
    spy.clear()
    root = State(_reflex_internal_init=True)
    sub = await root.get_state(cls)
    if tenant is not None and role is not None:
        app_state = await root.get_state(AppState)
        app_state._user_id, app_state._tenant_id, app_state._role = tenant.users[role], tenant.tenant_id, role
        app_state.user_email, app_state.tenant_name, app_state.role = tenant.email(role), tenant.name, role
    for var, value in prep.items():
        setattr(sub, var, value)
    result: Any = None
    handler = cls.event_handlers[name]
    target: Any = _BackgroundShim(sub) if handler.is_background else sub
    try:
        out = handler.fn(target, *args)
        if inspect.isasyncgen(out):
            result = [item async for item in out]
        elif inspect.isawaitable(out):
            result = await out
        else:
            result = out
    except Forbidden:
        pass  # recorded by the spy
    return Call(root, [role for role, _ in spy], any(refused for _, refused in spy), result)


class _BackgroundShim:
    """Stands in for Reflex's StateProxy: `async with self` in a background handler, on a plain state."""

    def __init__(self, state: BaseState) -> None:
        object.__setattr__(self, "_state", state)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_state"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_state"), name, value)

    async def __aenter__(self) -> _BackgroundShim:
        return self

    async def __aexit__(self, *_: Any) -> None:
        return None


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine executes while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", record)
    yield seen
    sqlalchemy.event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", record)
