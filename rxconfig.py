"""Reflex configuration, built from the one settings object."""

import reflex as rx

from models.settings import get_settings

settings = get_settings()

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
)
