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
# Below this width the header's links fold into a Menu button (one row at 1024 px); from it up (Playwright's
# default 1280 px too) they are in the header.
NAV_COLLAPSE_PX = 1280
# From here up the name beside the logo fits beside every link too.
NAV_ROOMY_PX = 1440
WIDE_ONLY = {f"@media (max-width: {NAV_COLLAPSE_PX - 1}px)": {"display": "none"}}
NARROW_ONLY = {"display": "none", f"@media (max-width: {NAV_COLLAPSE_PX - 1}px)": {"display": "flex"}}


def _slug(entry: NavEntry) -> str:
    return entry.label.lower().replace(" ", "-")


def _for_role(entry: NavEntry, component: rx.Component) -> rx.Component:
    # a page the role cannot use is not offered (its handlers refuse it anyway)
    return component if entry.role == "viewer" else rx.cond(AppState.role_rank >= ROLE_RANK[entry.role], component)


def _nav_link(entry: NavEntry) -> rx.Component:
    return _for_role(entry, rx.link(entry.label, href=entry.route, size="2", weight="medium", white_space="nowrap",
                                    id=f"nav-{_slug(entry)}"))


def _nav_menu() -> rx.Component:
    """The same links in a menu, for narrow windows (its items exist only while it is open: no twin ids)."""
    return rx.menu.root(
        rx.menu.trigger(rx.button(rx.icon("menu", size=16), "Menu", variant="soft", size="2", id="nav-menu-button")),
        rx.menu.content(*[_for_role(entry, rx.menu.item(entry.label, on_select=rx.redirect(entry.route),
                                                        id=f"navmenu-{_slug(entry)}")) for entry in sorted(NAV)]),
    )


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


def brand(size: str = "5", *, compact_between: tuple[int, int] | None = None) -> rx.Component:
    """Our logo and name; the name gives its room to the header's links at widths in `compact_between`."""
    name_style = {} if compact_between is None else {
        f"@media (min-width: {compact_between[0]}px) and (max-width: {compact_between[1] - 1}px)": {"display": "none"}}
    return rx.hstack(rx.image(src=LOGO, alt="SecureGuard", width="1.75em", height="1.75em", id="brand-logo"),
                     rx.heading("SecureGuard", size=size, white_space="nowrap", style=name_style),
                     align="center", spacing="2", flex_shrink="0")


def header() -> rx.Component:
    """Brand, navigation (a menu below NAV_COLLAPSE_PX), tenant and user, sign-out: one row at any width."""
    return rx.hstack(
        brand(compact_between=(NAV_COLLAPSE_PX, NAV_ROOMY_PX)),
        rx.hstack(*[_nav_link(entry) for entry in sorted(NAV)], spacing="3", margin_left="1em", align="center",
                  style=WIDE_ONLY, id="nav-links"),
        rx.box(_nav_menu(), style=NARROW_ONLY, margin_left="1em"),
        rx.spacer(),
        _live_feed(),
        rx.badge(AppState.tenant_name, variant="surface", id="tenant-name"),
        rx.text(AppState.user_email, size="2", id="user-email", white_space="nowrap", overflow="hidden",
                text_overflow="ellipsis", max_width="14em", title=AppState.user_email),
        rx.badge(AppState.role, color_scheme="indigo", id="user-role"),
        rx.button("Sign out", variant="soft", size="1", on_click=AppState.sign_out, id="sign-out",
                  white_space="nowrap"),
        align="center", padding="0.8em 1.5em", border_bottom="1px solid var(--gray-a5)", width="100%",
        wrap="nowrap", spacing="3", id="app-header",
    )


def shell(body: rx.Component) -> rx.Component:
    """The header above `body`; a table wider than the window scrolls inside the page, not the page itself."""
    return rx.vstack(
        header(),
        body,
        width="100%", spacing="0", align="center",
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
            return shell(rx.fragment(banner, rx.box(body(), padding="1.5em", width="100%", max_width="1400px",
                                                    min_width="0", overflow_x="auto", id="page-body")))

        page.__name__ = body.__name__
        return public_page(route, f"{title} · SecureGuard", on_load=[AppState.check_session, *on_load])(page)

    return decorate


def public_page(route: str, title: str, *, on_load: OnLoad = ()) -> Callable[[PageBody], PageBody]:
    """Register a page anyone may open (`rx.page`, typed for mypy); `title` is the whole tab title."""

    def decorate(body: PageBody) -> PageBody:
        rx.page(route=route, title=title, on_load=list(on_load) or None)(body)
        return body

    return decorate
