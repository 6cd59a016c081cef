"""The app shell: header with tenant and user, navigation, live feed; and the page decorator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from dashboard.components.denied import denied_banner
from state.base import AppState

# Only pages that work are listed; each later page adds itself here.
NAV: list[tuple[str, str]] = [
    ("Overview", "/overview"), ("Graph", "/graph"), ("Drift", "/drift"), ("Sources", "/sources"), ("Jobs", "/jobs"),
    ("Policies", "/policies"),
    ("GitOps", "/gitops"),
    ("Users", "/users"), ("Audit log", "/audit"),
]


def _nav_link(label: str, href: str) -> rx.Component:
    return rx.link(label, href=href, size="3", weight="medium", id=f"nav-{label.lower().replace(' ', '-')}")


def _live_feed() -> rx.Component:
    return rx.hover_card.root(
        rx.hover_card.trigger(
            rx.badge(rx.icon("radio", size=14), "live ", AppState.live_received, color_scheme="grass", id="live-count",
                     custom_attrs={"data-last-event": AppState.last_event}),
        ),
        rx.hover_card.content(
            rx.vstack(
                rx.text("Latest live events", weight="bold", size="2"),
                rx.cond(
                    AppState.live_feed.length() > 0,
                    rx.foreach(
                        AppState.live_feed,
                        lambda item: rx.hstack(rx.text(item["text"], size="1"), rx.spacer(),
                                               rx.text(item["latency"], size="1", color_scheme="gray")),
                    ),
                    rx.text("Nothing yet: events appear here as workers report.", size="1"),
                ),
                id="live-feed", width="22em",
            ),
        ),
    )


def header() -> rx.Component:
    """Brand, navigation, tenant and user, sign-out."""
    return rx.hstack(
        rx.hstack(rx.icon("shield-check"), rx.heading("SecureGuard", size="5"), align="center"),
        rx.hstack(*[_nav_link(label, href) for label, href in NAV], spacing="5", margin_left="2em"),
        rx.spacer(),
        _live_feed(),
        rx.badge(AppState.tenant_name, variant="surface", id="tenant-name"),
        rx.text(AppState.user_email, size="2", id="user-email"),
        rx.badge(AppState.role, color_scheme="indigo", id="user-role"),
        rx.button("Sign out", variant="soft", size="1", on_click=AppState.sign_out, id="sign-out"),
        align="center", padding="0.8em 1.5em", border_bottom="1px solid var(--gray-a5)", width="100%",
    )


PageBody = Callable[[], rx.Component]


def protected_page(route: str, title: str, on_load: list[Any] | None = None) -> Callable[[PageBody], PageBody]:
    """Register a page that needs a session: identity is checked before the page's own loads."""

    def decorate(body: PageBody) -> PageBody:
        def page() -> rx.Component:
            return rx.vstack(
                header(),
                denied_banner(),
                rx.box(body(), padding="1.5em", width="100%", max_width="1400px"),
                width="100%", spacing="0", align="center",
            )

        page.__name__ = body.__name__
        loads = [AppState.check_session, *(on_load or [])]
        return rx.page(route=route, title=f"{title} · SecureGuard", on_load=loads)(page)

    return decorate
