"""`/`: straight on to the overview."""

from __future__ import annotations

import reflex as rx

from dashboard.components.shell import public_page


@public_page("/", "SecureGuard")
def index() -> rx.Component:
    return rx.fragment(rx.text("Loading…"), on_mount=rx.redirect("/overview", replace=True))
