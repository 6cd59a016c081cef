"""Live push: one Redis subscriber per backend process fans each tenant's events out to that
tenant's open sessions (a pub/sub connection per tab does not scale: docs/decisions.md, "Live push").

Sessions register here when their identity is checked; page states that want events declare
the event types they handle with `listens_to` and implement `_on_live_event(event)`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import reflex as rx
from reflex.state import BaseState

logger = logging.getLogger(__name__)
MAX_TOKENS_PER_TENANT = 10_000

_sessions: dict[int, set[str]] = defaultdict(set)
_listeners: dict[str, list[type[rx.State]]] = defaultdict(list)


class LiveListener(Protocol):
    # May be a coroutine function when the listener needs to read the database.
    def _on_live_event(self, event: dict[str, Any]) -> Any: ...


S = TypeVar("S", bound=type[rx.State])


def listens_to(*event_types: str) -> Callable[[S], S]:
    """Class decorator: the state's `_on_live_event(event)` gets these event types."""

    def register(cls: S) -> S:
        for event_type in event_types:
            _listeners[event_type].append(cls)
        return cls

    return register


def register_session(tenant_id: int, client_token: str) -> None:
    """Deliver this tenant's events to this browser tab from now on."""
    for other, tokens in _sessions.items():
        if other != tenant_id:
            tokens.discard(client_token)
    if len(_sessions[tenant_id]) < MAX_TOKENS_PER_TENANT:
        _sessions[tenant_id].add(client_token)


def unregister_session(client_token: str) -> None:
    """Stop delivering to this tab (logout, lost session)."""
    for tokens in _sessions.values():
        tokens.discard(client_token)


def sessions_of(tenant_id: int) -> frozenset[str]:
    """The tabs of a tenant registered in this process."""
    return frozenset(_sessions.get(tenant_id, ()))


def _leaf_under(cls: type[BaseState]) -> type[BaseState]:
    """A state at the bottom of `cls`'s subtree (the first by name at each level)."""
    while substates := sorted(cls.get_substates(), key=lambda sub: sub.get_full_name()):
        cls = substates[0]
    return cls


def delivery_state(base_cls: type[rx.State], events: list[dict[str, Any]]) -> type[BaseState]:
    """The state class a delivery asks the state manager for.

    The Redis state manager loads the requested class's whole subtree, plus its parents: asking for the base
    state read and unpickled every page state of the tab (26) for each delivery, which is what made live
    push slow once the state moved to Redis. A listener of the batch (or a leaf) brings in the base state as
    its parent; further listeners are loaded on demand by `get_state`.
    """
    for event in events:
        for cls in _listeners.get(event.get("type", ""), ()):
            return cls
    return _leaf_under(base_cls)


async def _deliver_one(
    app: rx.App, base_cls: type[rx.State], tenant_id: int, token: str, events: list[dict[str, Any]]
) -> None:
    async with app.modify_state(rx.BaseStateToken(ident=token, cls=delivery_state(base_cls, events))) as root:
        base = await root.get_state(base_cls)
        # Defence in depth: the tab's own identity must still be this tenant's.
        if getattr(base, "_tenant_id", None) != tenant_id:
            unregister_session(token)
            return
        for event in events:
            base._on_live_event(event)  # type: ignore[attr-defined]
            for cls in _listeners.get(event.get("type", ""), ()):
                listener = await root.get_state(cls)
                outcome = listener._on_live_event(event)  # type: ignore[attr-defined]
                if inspect.isawaitable(outcome):
                    await outcome


def local_tokens(app: rx.App) -> frozenset[str]:
    """The tabs whose socket is on this backend. Reflex's Redis token manager also caches other backends'
    sockets: those tabs get the event from their own backend (each backend has its own subscriber)."""
    namespace = app.event_namespace
    if namespace is None:
        return frozenset()
    manager = namespace._token_manager
    return frozenset(token for token, record in manager.token_to_socket.items()
                     if record.instance_id == manager.instance_id)


async def resume_session(app: rx.App, base_cls: type[rx.State], token: str) -> None:
    """A tab connected to this backend: deliver its tenant's events here when its state holds an identity
    (a tab that reconnected from a backend that died; a new tab registers when its session is checked)."""
    root = await app.state_manager.get_state(rx.BaseStateToken(ident=token, cls=base_cls))
    base = await root.get_state(base_cls)
    tenant_id = getattr(base, "_tenant_id", 0)
    if tenant_id:
        register_session(tenant_id, token)


def decode_events(raws: list[str], tenant_id: int) -> list[dict[str, Any]]:
    """Parse published events, dropping any whose body names another tenant than its channel."""
    events = []
    for raw in raws:
        event = json.loads(raw)
        if event.get("tenant_id") == tenant_id:
            events.append(event)
        else:
            logger.warning("dropped an event whose body names another tenant than its channel")
    return events


async def deliver(app: rx.App, base_cls: type[rx.State], tenant_id: int, events: list[dict[str, Any]]) -> int:
    """Push a tenant's events, in order, to its connected tabs (one state update per tab); returns the tab count."""
    if not events:
        return 0
    connected = local_tokens(app)
    targets = []
    for token in sessions_of(tenant_id):
        if token in connected:
            targets.append(token)
        else:
            unregister_session(token)
    outcomes = await asyncio.gather(*(_deliver_one(app, base_cls, tenant_id, t, events) for t in targets),
                                    return_exceptions=True)
    # One tab's failure (its lock expired, its state unreadable) must not cost the others their events, nor
    # end the tenant's delivery task: it is logged with its traceback and the other tabs are served.
    for token, outcome in zip(targets, outcomes, strict=True):
        if isinstance(outcome, Exception):
            logger.error("live event delivery to tab %s… failed", token[:8], exc_info=outcome)
        elif isinstance(outcome, BaseException):
            raise outcome
    return len(targets)
