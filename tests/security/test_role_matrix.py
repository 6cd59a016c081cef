"""Role matrix: every REST route and every Reflex event handler, as each role, is allowed or refused exactly
as tests/security/access_matrix.py says; anything not classified there fails here by name."""

from __future__ import annotations

import httpx
import pytest
from reflex.state import BaseState

from tests.security.access_matrix import REST, ROLES_ASCENDING, STATE
from tests.security.conftest import Seeded, call_handler, fill, our_state_handlers
from tests.security.rest import openapi_operations, request_for

pytestmark = pytest.mark.integration
RANK = {role: i for i, role in enumerate(ROLES_ASCENDING)}


def test_every_rest_route_is_classified() -> None:
    missing = [f"{method} {path}" for method, path, _ in openapi_operations() if (method, path) not in REST]
    assert not missing, ("REST routes with no minimum role in tests/security/access_matrix.py REST: "
                         + ", ".join(missing))


def test_every_state_handler_is_classified() -> None:
    missing = [f"{cls.__name__}.{name}" for cls, name in our_state_handlers() if f"{cls.__name__}.{name}" not in STATE]
    assert not missing, ("Reflex event handlers with no minimum role in tests/security/access_matrix.py STATE: "
                         + ", ".join(missing))


def test_matrix_has_no_stale_entries() -> None:
    rest = {(m, p) for m, p, _ in openapi_operations()}
    handlers = {f"{cls.__name__}.{name}" for cls, name in our_state_handlers()}
    assert not [k for k in REST if k not in rest], "access_matrix REST names routes that no longer exist"
    assert not [k for k in STATE if k not in handlers], "access_matrix STATE names handlers that no longer exist"


async def test_rest_routes_refuse_roles_below_their_minimum(
    two_tenants: tuple[Seeded, Seeded], api_client: httpx.AsyncClient
) -> None:
    own, _ = two_tenants
    wrong: list[str] = []
    for method, path, operation in openapi_operations():
        rule = REST.get((method, path))
        if rule is None or rule.role == "public":
            continue
        for role in ROLES_ASCENDING:
            response = await api_client.request(**request_for(method, path, operation, rule, own.ids,
                                                              token=own.tokens[role]))
            allowed = RANK[role] >= RANK[rule.role]
            if allowed and response.status_code in (401, 403):
                wrong.append(f"{role} refused on {method} {path}: {response.status_code} {response.text[:120]}")
            if not allowed and response.status_code != 403:
                wrong.append(f"{role} not refused on {method} {path}: {response.status_code} {response.text[:120]}")
    assert not wrong, "\n".join(wrong)


async def test_rest_routes_need_a_token(api_client: httpx.AsyncClient, two_tenants: tuple[Seeded, Seeded]) -> None:
    own, _ = two_tenants
    open_routes = []
    for method, path, operation in openapi_operations():
        rule = REST.get((method, path))
        if rule is None or rule.role == "public":
            continue
        request = request_for(method, path, operation, rule, own.ids, token=None)
        response = await api_client.request(**request)
        if response.status_code != 401:
            open_routes.append(f"{method} {path}: {response.status_code}")
    assert not open_routes, "routes answering without a token: " + ", ".join(open_routes)


def _handlers_with(level: str | None = None) -> list[tuple[type[BaseState], str]]:
    return [(cls, name) for cls, name in our_state_handlers()
            if f"{cls.__name__}.{name}" in STATE
            and (STATE[f"{cls.__name__}.{name}"].role == level if level else
                 STATE[f"{cls.__name__}.{name}"].role in RANK)]


async def test_state_handlers_check_exactly_their_minimum_role(
    two_tenants: tuple[Seeded, Seeded], require_spy: list[tuple[str, bool]]
) -> None:
    own, _ = two_tenants
    wrong: list[str] = []
    for cls, name in _handlers_with():
        rule = STATE[f"{cls.__name__}.{name}"]
        args, prep = fill(rule.args, own.ids), fill(rule.prep, own.ids)
        for role in ROLES_ASCENDING:
            call = await call_handler(cls, name, args, prep, tenant=own, role=role, spy=require_spy)
            label = f"{cls.__name__}.{name} as {role}"
            strongest = max(call.required, key=RANK.__getitem__, default=None)
            if strongest != rule.role:
                wrong.append(f"{label}: checks {strongest or 'no role'}, the matrix says {rule.role}")
            elif call.refused != (RANK[role] < RANK[rule.role]):
                wrong.append(f"{label}: {'refused' if call.refused else 'allowed'}")
        anonymous = await call_handler(cls, name, args, prep, tenant=None, role=None, spy=require_spy)
        if not anonymous.refused:
            wrong.append(f"{cls.__name__}.{name} without a session: not refused")
    assert not wrong, "\n".join(wrong)


async def test_ui_handlers_touch_no_data(statements: list[str], require_spy: list[tuple[str, bool]],
                                         two_tenants: tuple[Seeded, Seeded]) -> None:
    own, _ = two_tenants
    statements.clear()
    touched = []
    for cls, name in _handlers_with("ui"):
        rule = STATE[f"{cls.__name__}.{name}"]
        before = len(statements)
        await call_handler(cls, name, fill(rule.args, own.ids), fill(rule.prep, own.ids), tenant=None, role=None,
                           spy=require_spy)
        if len(statements) != before:
            touched.append(f"{cls.__name__}.{name}: {statements[before][:80]}")
    assert not touched, "handlers classified 'ui' that query the database (give them a role): " + "; ".join(touched)


async def test_a_tampering_client_cannot_set_identity_with_setvar(two_tenants: tuple[Seeded, Seeded],
                                                                   require_spy: list[tuple[str, bool]]) -> None:
    from reflex.state import State

    from state.users import UsersState

    own, _ = two_tenants
    root = State(_reflex_internal_init=True)
    users = await root.get_state(UsersState)
    users._tenant_id, users._role, users.role = own.tenant_id, "viewer", "viewer"
    setvar = UsersState.event_handlers["setvar"].fn
    for var in ("_role", "_tenant_id", "role", "users"):
        with pytest.raises(AttributeError):
            setvar(users, var, "admin")
    # Even a tampered public mirror of the role would not matter: checks read the backend-only one.
    users.role = "admin"
    require_spy.clear()
    await UsersState.event_handlers["load"].fn(users)
    assert require_spy == [("admin", True)] and users.users == []
