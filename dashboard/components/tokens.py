"""The API token card: create (secret shown once), list, revoke with confirmation."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import Row, event
from models.tenancy import ROLES
from state.tokens import TokensState


def _create_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="name", placeholder="Token name, e.g. zeek-collector", required=True, id="token-name",
                     width="18em"),
            rx.select(list(ROLES), name="role", default_value="analyst", id="token-role"),
            rx.button(rx.icon("key-round"), "Create token", type="submit", id="token-create"),
            align="center",
        ),
        on_submit=TokensState.create_token, reset_on_submit=True,
    )


def _secret() -> rx.Component:
    return rx.callout(
        rx.vstack(
            rx.text(TokensState.token_message, size="2"),
            rx.hstack(rx.code(TokensState.new_secret, id="token-secret"),
                      rx.button(rx.icon("copy", size=14), "Copy", size="1", variant="soft",
                                on_click=rx.set_clipboard(TokensState.new_secret)),
                      rx.button("Done", size="1", variant="outline", on_click=TokensState.dismiss_secret),
                      align="center"),
        ),
        color_scheme="amber", width="100%",
    )


def _confirm_revoke() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Revoke this token?"),
            rx.alert_dialog.description(
                "Collectors using token #", TokensState.confirm_revoke_id,
                " will be refused from now on. This cannot be undone."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", on_click=TokensState.cancel_revoke)),
                rx.alert_dialog.action(rx.button("Revoke", color_scheme="red", on_click=TokensState.revoke_token,
                                                 id="token-revoke-confirm")),
                justify="end", spacing="3", margin_top="1em",
            ),
        ),
        open=TokensState.confirm_revoke_id != "",
    )


def _row(token: Row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(token["id"]), rx.table.cell(token["name"]), rx.table.cell(token["role"]),
        rx.table.cell(rx.code(token["prefix"])), rx.table.cell(token["created"]), rx.table.cell(token["last_used"]),
        rx.table.cell(rx.badge(token["state"], color_scheme=rx.cond(token["state"] == "active", "grass", "gray"))),
        rx.table.cell(rx.cond(token["state"] == "active",
                              rx.button("Revoke", size="1", color_scheme="red", variant="soft",
                                        on_click=event(TokensState.ask_revoke)(token["id"]),
                                        id="token-revoke-" + token["id"]))),
        id="token-" + token["id"],
    )


def tokens_card() -> rx.Component:
    """API tokens for collectors: `Authorization: Bearer <token>` on /api/v1."""
    headers = ("#", "Name", "Role", "Prefix", "Created", "Last used", "State", "")
    return rx.card(
        rx.vstack(
            rx.heading("API tokens", size="4"),
            rx.text("Collectors push flows with POST /api/v1/flows and Authorization: Bearer <token>. "
                    "Tokens are stored hashed and shown only once.", size="2", color_scheme="gray"),
            _create_form(),
            rx.cond(TokensState.new_secret != "", _secret(),
                    rx.cond(TokensState.token_message != "", rx.callout(TokensState.token_message, size="1"))),
            rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                          rx.table.body(rx.foreach(TokensState.tokens, _row)), size="1", width="100%",
                          id="tokens-table"),
            _confirm_revoke(),
            spacing="3", width="100%",
        ),
        width="100%",
    )
