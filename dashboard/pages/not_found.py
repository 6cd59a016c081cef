"""The page for an address that is no page: the app shell with its navigation, and a way on."""

from __future__ import annotations

import reflex as rx

from dashboard.components.shell import protected_page

# Reflex serves the page registered at this route for every unknown address.
NOT_FOUND_ROUTE = "404"


@protected_page(NOT_FOUND_ROUTE, "Page not found", nav=None)
def not_found() -> rx.Component:
    return rx.vstack(
        rx.heading("Page not found", size="6", id="not-found"),
        rx.text("There is no page at this address. It may have been mistyped, or the link is from an older "
                "version of SecureGuard.", size="2", color_scheme="gray"),
        rx.hstack(rx.link("Go to the Overview", href="/overview", id="not-found-overview"),
                  rx.text("or choose a page in the header.", size="2"), align="center"),
        spacing="3",
    )
