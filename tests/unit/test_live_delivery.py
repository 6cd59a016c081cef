"""Live push's delivery step (`state.live.deliver`) with the Reflex app replaced by a recorder: which state
class each tab's update asks the state manager for, and that one tab's failure does not cost the others."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import reflex as rx
from reflex.state import BaseState

import dashboard.dashboard  # noqa: F401  (registers every page state and its listeners)
from state import live
from state.base import AppState


class _Root:
    def __init__(self, base: Any) -> None:
        self.base = base

    async def get_state(self, cls: type[rx.State]) -> Any:
        return self.base if cls is AppState else _Listener()


class _Listener:
    def _on_live_event(self, event: dict[str, Any]) -> None:
        return None


class _Base:
    def __init__(self, tenant_id: int) -> None:
        self._tenant_id = tenant_id
        self.seen: list[int] = []

    def _on_live_event(self, event: dict[str, Any]) -> None:
        self.seen.append(event["data"]["id"])


class _App:
    """Hands out each tab's base state; the tab named "broken" fails as a lock that expired would."""

    def __init__(self, tokens: list[str]) -> None:
        self.bases = {token: _Base(7) for token in tokens}
        self.requested: list[type[BaseState]] = []

    @contextlib.asynccontextmanager
    async def modify_state(self, token: rx.BaseStateToken) -> AsyncIterator[_Root]:
        self.requested.append(token.cls)
        if token.ident == "broken":
            raise RuntimeError("lock expired")
        yield _Root(self.bases[token.ident])


@pytest.fixture
def tabs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    tokens = ["tab-a", "broken", "tab-b"]
    monkeypatch.setattr(live, "_sessions", {7: set(tokens)})
    monkeypatch.setattr(live, "local_tokens", lambda app: frozenset(tokens))
    return tokens


def _event(kind: str, number: int) -> dict[str, Any]:
    return {"type": kind, "tenant_id": 7, "ts": 0.0, "data": {"id": number}}


async def test_one_failing_tab_does_not_stop_the_others(tabs: list[str], caplog: pytest.LogCaptureFixture) -> None:
    app = _App(tabs)
    with caplog.at_level(logging.ERROR, logger=live.logger.name):
        # Before: the first failure was raised out of the gather, ending the tenant's delivery task.
        assert await live.deliver(app, AppState, 7, [_event("bench.event", 1), _event("bench.event", 2)]) == 3  # type: ignore[arg-type]
    assert app.bases["tab-a"].seen == [1, 2]
    assert app.bases["tab-b"].seen == [1, 2]
    assert "delivery to tab broken" in caplog.text


async def test_a_delivery_does_not_load_every_page_state(tabs: list[str]) -> None:
    app = _App(tabs)
    await live.deliver(app, AppState, 7, [_event("bench.event", 1)])  # type: ignore[arg-type]
    await live.deliver(app, AppState, 7, [_event("job.updated", 2)])  # type: ignore[arg-type]
    # Asking for AppState made the Redis state manager read and unpickle all of its substates per tab.
    assert AppState not in app.requested
    for cls in app.requested:
        assert issubclass(cls, AppState)
    job_listeners = live._listeners["job.updated"]
    assert set(app.requested[3:]) == {job_listeners[0]}
    assert not app.requested[0].get_substates()
