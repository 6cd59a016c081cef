"""The app shell: header with logo, navigation, tenant and user, live feed; and the page decorators, which register
each page and its navigation entry (importing `dashboard.pages` registers them all)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import reflex as rx
from reflex_base.event import EventType

from dashboard.components.bindings import array
from dashboard.components.denied import denied_banner
from models.tenancy import ROLE_RANK
from state.base import AppState

# Our mark (assets/logo.svg): the header, the sign-in card and the browser tab.
LOGO = "/logo.svg"
PageBody = Callable[[], rx.Component]
OnLoad = Sequence[EventType[()]]


@dataclass(frozen=True, order=True)
class NavEntry:
    """A page's link in the header; links are ordered by `order`, lowest first."""

    order: int
    label: str
    route: str
    role: str = "viewer"


# Filled by @protected_page as the page modules are imported.
NAV: list[NavEntry] = []


def _nav_link(entry: NavEntry) -> rx.Component:
    link = rx.link(entry.label, href=entry.route, size="3", weight="medium",
                   id=f"nav-{entry.label.lower().replace(' ', '-')}")
    # a page the role cannot use is not offered (its handlers refuse it anyway)
    return link if entry.role == "viewer" else rx.cond(AppState.role_rank >= ROLE_RANK[entry.role], link)


def for_role(role: str, body: rx.Component) -> rx.Component:
    """`body` for `role` and above; lower roles read why instead (the page's guarded loads refuse them too)."""
    refused = rx.callout.root(
        rx.callout.icon(rx.icon("shield-alert")),
        rx.callout.text(f"This page is for the {role} role and above; your role is ", AppState.role,
                        ". Ask an admin of your tenant for access."),
        color_scheme="amber", id="page-role-refused",
    )
    return rx.cond(AppState.role_rank >= ROLE_RANK[role], body, rx.cond(AppState.role_rank >= 0, refused))


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
                    array(AppState.live_feed).length() > 0,
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


def brand(size: str = "5") -> rx.Component:
    """Our logo and name."""
    return rx.hstack(rx.image(src=LOGO, alt="", width="1.75em", height="1.75em", id="brand-logo"),
                     rx.heading("SecureGuard", size=size), align="center", spacing="2")


def header() -> rx.Component:
    """Brand, navigation, tenant and user, sign-out."""
    return rx.hstack(
        brand(),
        rx.hstack(*[_nav_link(entry) for entry in sorted(NAV)], spacing="5", margin_left="2em"),
        rx.spacer(),
        _live_feed(),
        rx.badge(AppState.tenant_name, variant="surface", id="tenant-name"),
        rx.text(AppState.user_email, size="2", id="user-email"),
        rx.badge(AppState.role, color_scheme="indigo", id="user-role"),
        rx.button("Sign out", variant="soft", size="1", on_click=AppState.sign_out, id="sign-out"),
        align="center", padding="0.8em 1.5em", border_bottom="1px solid var(--gray-a5)", width="100%",
    )


def protected_page(route: str, title: str, *, nav: str | None, order: int = 0, role: str = "viewer",
                   on_load: OnLoad = ()) -> Callable[[PageBody], PageBody]:
    """Register a page that needs a session, and its header link `nav` (None: no link) at place `order`.

    Identity is checked before the page's own loads. The link is shown only to `role` and above (the page decides
    what lower roles see: `for_role`).
    """
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")
    if nav is not None:
        NAV.append(NavEntry(order, nav, route, role))

    def decorate(body: PageBody) -> PageBody:
        def page() -> rx.Component:
            # Below the page's role, `for_role` says why in the page itself: one refusal, not two.
            banner = denied_banner() if role == "viewer" else rx.cond(
                AppState.role_rank >= ROLE_RANK[role], denied_banner())
            return rx.vstack(
                header(),
                banner,
                rx.box(body(), padding="1.5em", width="100%", max_width="1400px"),
                width="100%", spacing="0", align="center",
            )

        page.__name__ = body.__name__
        return public_page(route, f"{title} · SecureGuard", on_load=[AppState.check_session, *on_load])(page)

    return decorate


def public_page(route: str, title: str, *, on_load: OnLoad = ()) -> Callable[[PageBody], PageBody]:
    """Register a page anyone may open (`rx.page`, typed for mypy); `title` is the whole tab title."""

    def decorate(body: PageBody) -> PageBody:
        rx.page(route=route, title=title, on_load=list(on_load) or None)(body)
        return body

    return decorate
