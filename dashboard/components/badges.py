"""Badges shared by pages: severity and status."""

from __future__ import annotations

import reflex as rx

SEVERITY_COLORS = {"critical": "red", "high": "orange", "medium": "amber", "low": "blue", "info": "gray"}
STATUS_COLORS = {"open": "red", "acknowledged": "amber", "resolved": "grass", "false_positive": "gray",
                 "suppressed": "gray"}


def severity_badge(severity: rx.Var[str] | str) -> rx.Component:
    return rx.match(severity, *[(k, rx.badge(k, color_scheme=v)) for k, v in SEVERITY_COLORS.items()],
                    rx.badge(severity))


def status_badge(status: rx.Var[str] | str) -> rx.Component:
    return rx.match(status, *[(k, rx.badge(k, color_scheme=v, variant="surface")) for k, v in STATUS_COLORS.items()],
                    rx.badge(status))
