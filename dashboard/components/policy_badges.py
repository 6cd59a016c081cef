"""The status badge of a policy version."""

from __future__ import annotations

import reflex as rx

POLICY_STATUS_COLORS = {"draft": "gray", "pending": "amber", "approved": "grass", "rejected": "red",
                        "superseded": "gray", "deployed": "blue"}


def policy_status_badge(status: rx.Var[str] | str) -> rx.Component:
    return rx.match(status, *[(k, rx.badge(k, color_scheme=v, variant="surface"))
                              for k, v in POLICY_STATUS_COLORS.items()], rx.badge(status))
