"""Every event handler of SecureGuard's Reflex states goes through the access guard (`state.base.guarded`),
or is one of the few below that must run without an identity; a new handler that does neither fails here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from reflex.state import BaseState, State

import dashboard.dashboard  # noqa: F401  (registers every page and state)
from models.tenancy import ROLE_RANK
from state.base import GUARD_ROLE, guarded

# Handlers that run without an identity, each for a reason.
UNGUARDED = {
    # They establish or end the identity: nothing to guard with yet, or any more.
    "AppState.check_session": "loads the identity from the session cookie (on_load of every protected page)",
    "AppState.sign_out": "ends the identity in the tab, whatever it is",
    # Public pages: whoever opens them has no session.
    "LoginState.load": "the login page shows why the user is there",
    "LoginState.login": "checks a password (throttled) and hands out a sign-in ticket",
    "SetPasswordState.load": "keeps the one-time link from the URL",
    "SetPasswordState.set_password": "the one-time link is the credential",
}


def our_states() -> list[type[BaseState]]:
    """Every state class of SecureGuard (state/ and dashboard/), found by walking the state tree."""
    found: list[type[BaseState]] = []
    todo = [State]
    while todo:
        cls = todo.pop()
        for sub in sorted(cls.get_substates(), key=lambda s: s.__name__):
            if sub.__module__.split(".")[0] in ("state", "dashboard"):
                found.append(sub)
            todo.append(sub)
    return found


def unguarded(states: Iterable[Any], allowed: dict[str, str]) -> list[str]:
    """'Class.handler' of every handler that neither carries the guard's role nor is allowed."""
    wrong = []
    for cls in states:
        for name, handler in cls.event_handlers.items():
            label = f"{cls.__name__}.{name}"
            if name == "setvar" or label in allowed:
                continue  # setvar: Reflex's own, and it refuses every var here (no setters)
            if getattr(handler.fn, GUARD_ROLE, None) not in ROLE_RANK:
                wrong.append(label)
    return wrong


def test_every_handler_goes_through_the_guard_or_is_allowed_by_name() -> None:
    states = our_states()
    assert len(states) >= 15, [s.__name__ for s in states]  # the walk reaches the page states
    wrong = unguarded(states, UNGUARDED)
    assert not wrong, ("event handlers without @guarded(role) (state/base.py) and not in UNGUARDED: "
                       + ", ".join(wrong))


def test_the_allowlist_names_only_handlers_that_exist_and_are_not_guarded() -> None:
    handlers = {f"{cls.__name__}.{name}": handler for cls in our_states() for name, handler in cls.event_handlers.items()}
    assert not [label for label in UNGUARDED if label not in handlers], "UNGUARDED names a handler that is gone"
    assert not [label for label in UNGUARDED if hasattr(handlers[label].fn, GUARD_ROLE)], "guarded: drop it here"


@dataclass
class _Handler:
    fn: Any


@dataclass
class _PlantedState:
    """A state as the walk sees it: one guarded handler, one plain, one allowed by name."""

    __name__ = "PlantedState"
    event_handlers: dict[str, _Handler] = field(default_factory=dict)


def test_a_planted_unguarded_handler_is_named() -> None:
    def plain(self: Any) -> None: ...

    def checked(self: Any) -> None: ...

    state = _PlantedState({"plain": _Handler(plain), "checked": _Handler(guarded("analyst")(checked)),
                           "open": _Handler(plain)})
    assert unguarded([state], {"PlantedState.open": "test"}) == ["PlantedState.plain"]


def test_the_guard_refuses_unknown_roles_and_generators() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        guarded("superuser")

    def steps(self: Any) -> Any:
        yield None

    with pytest.raises(TypeError, match="only plain and async functions"):
        guarded("viewer")(steps)
