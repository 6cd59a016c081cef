"""The Graph page's details panel: the clicked node's identity, home or outside (autonomous system,
organisation, country), labels, edges and drift events."""

from __future__ import annotations

from typing import Any

import reflex as rx

from state.base import AppState, guarded


class GraphDetailState(AppState):
    """The clicked node's panel."""

    detail: dict[str, str] = {}
    detail_labels: list[str] = []
    outgoing: list[dict[str, str]] = []
    incoming: list[dict[str, str]] = []
    events: list[dict[str, str]] = []

    def _show(self, found: dict[str, Any] | None) -> None:
        found = found or {}
        self.detail = {k: str(v) for k, v in found.items() if isinstance(v, str)}
        self.detail_labels = list(found.get("labels", []))
        self.outgoing, self.incoming = list(found.get("outgoing", [])), list(found.get("incoming", []))
        self.events = list(found.get("events", []))

    @rx.event
    @guarded("viewer")
    def close(self) -> None:
        """Hide the panel."""
        self._show(None)
