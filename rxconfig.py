"""Reflex configuration, built from the one settings object."""

import os

import reflex as rx

from models.settings import get_settings

settings = get_settings()

# One backend process per web replica: scale out with replicas behind the balancer (deploy/haproxy.cfg), each
# its own process. Granian would otherwise start 2 x cores + 1 workers as soon as Redis holds the state.
os.environ.setdefault("GRANIAN_WORKERS", "1")

config = rx.Config(
    app_name="dashboard",
    frontend_port=settings.web_port,
    backend_port=settings.web_port,
    show_built_with_reflex=False,
    telemetry_enabled=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
    # The websocket and the API answer only pages of our own origin: another site's page must not drive a
    # signed-in user's session (Reflex's default is any origin).
    cors_allowed_origins=settings.allowed_origins,
    # Tab state lives in Redis (StateManagerRedis), not in one process: any backend behind the balancer serves
    # any tab, and a tab whose backend dies reconnects to another with its state intact (docs/architecture.md,
    # "Web replicas").
    redis_url=settings.redis_url,
    state_manager_mode=rx.constants.StateManagerMode.REDIS,
)
