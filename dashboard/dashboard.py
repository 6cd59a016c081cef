"""The SecureGuard Reflex app: pages, live push, and the REST/auth routes on the same port."""

from __future__ import annotations

import reflex as rx

from dashboard.api.app import build_api
from dashboard.live import fan_out_task
from dashboard.pages import audit, drift, graph, jobs, login, overview, sources, users  # noqa: F401  (registers the pages)  # noqa: F401  (registers the pages)
from dashboard.pages import gitops as gitops_page  # noqa: F401  (registers the page)
from dashboard.pages import policies as policies_page  # noqa: F401  (registers the page)
from state.base import SessionGuard


@rx.page(route="/", title="SecureGuard")
def index() -> rx.Component:
    return rx.fragment(rx.text("Loading…"), on_mount=rx.redirect("/overview", replace=True))


app = rx.App(api_transformer=build_api())
app.register_lifespan_task(fan_out_task(app))
app.add_middleware(SessionGuard())
