"""The SecureGuard Reflex app: pages, live push, and the REST/auth routes on the same port."""

from __future__ import annotations

import reflex as rx

import dashboard.pages  # noqa: F401  (registers every page and its header link)
from dashboard.api.app import build_api
from dashboard.components.shell import LOGO
from dashboard.live import fan_out_task
from dashboard.replicas import replica_lifespan
from state.base import SessionGuard

app = rx.App(
    api_transformer=build_api(),
    # Our icon in the tab: without a link the browser asks for /favicon.ico.
    head_components=[rx.el.link(rel="icon", href=LOGO, type="image/svg+xml")],
)
app.register_lifespan_task(fan_out_task(app))
app.register_lifespan_task(replica_lifespan(app))
app.add_middleware(SessionGuard())
