"""The Users page (admins): invite with a one-time set-password link, change roles, disable/enable;
and the public set-password page behind the link."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import Row, event
from dashboard.components.shell import for_role, protected_page, public_page
from models.tenancy import ROLES
from state.users import SET_PASSWORD_PATH, SetPasswordState, UsersState


def _invite_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="email", type="email", placeholder="name@example.com", required=True, id="invite-email",
                     width="18em"),
            rx.select(list(ROLES), name="role", default_value="viewer", id="invite-role"),
            rx.button(rx.icon("user-plus"), "Invite", type="submit", id="invite-submit"),
            align="center",
        ),
        on_submit=UsersState.create_user, reset_on_submit=True,
    )


def _link() -> rx.Component:
    return rx.callout(
        rx.vstack(
            rx.text(UsersState.message, size="2"),
            rx.hstack(rx.code(UsersState.new_link, id="invite-link"),
                      rx.button(rx.icon("copy", size=14), "Copy", size="1", variant="soft",
                                on_click=rx.set_clipboard(UsersState.new_link)),
                      rx.button("Done", size="1", variant="outline", on_click=UsersState.dismiss_link),
                      align="center", wrap="wrap"),
        ),
        color_scheme="amber", width="100%",
    )


def _confirm() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Confirm"),
            rx.alert_dialog.description(UsersState.pending_text, id="users-confirm-text"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", on_click=UsersState.cancel)),
                rx.alert_dialog.action(rx.button("Confirm", on_click=UsersState.confirm, id="users-confirm")),
                justify="end", spacing="3", margin_top="1em",
            ),
        ),
        open=UsersState.pending_text != "",
    )


def _row(user: Row) -> rx.Component:
    ask = event(UsersState.ask)
    return rx.table.row(
        rx.table.cell(user["email"], class_name="user-email"),
        rx.table.cell(rx.select(list(ROLES), value=user["role"], size="1", id="user-role-" + user["id"],
                                on_change=lambda role: ask(user["id"], "role", role))),
        rx.table.cell(rx.badge(user["state"], color_scheme=rx.match(user["state"], ("active", "grass"),
                                                                   ("invited", "amber"), "gray")),
                      class_name="user-state"),
        rx.table.cell(user["last_login"]),
        rx.table.cell(user["sso"]),
        rx.table.cell(rx.hstack(
            rx.cond(user["state"] == "disabled",
                    rx.button("Enable", size="1", variant="soft", on_click=ask(user["id"], "enable", ""),
                              id="user-enable-" + user["id"]),
                    rx.button("Disable", size="1", variant="soft", color_scheme="red",
                              on_click=ask(user["id"], "disable", ""), id="user-disable-" + user["id"])),
            rx.button("Password link", size="1", variant="outline", on_click=ask(user["id"], "link", ""),
                      id="user-link-" + user["id"]),
        )),
        id="user-" + user["id"],
    )


@protected_page("/users", "Users", nav="Users", order=80, role="admin", on_load=[UsersState.load])
def users() -> rx.Component:
    headers = ("Email", "Role", "State", "Last sign-in", "SSO", "")
    return for_role("admin", rx.vstack(
        rx.heading("Users", size="6"),
        rx.text("Admins invite users with a one-time set-password link, change roles and disable accounts. "
                "Every change is in the audit log.", size="2", color_scheme="gray"),
        _invite_form(),
        rx.cond(UsersState.new_link != "", _link(),
                rx.cond(UsersState.message != "",
                        rx.callout(UsersState.message, size="1", id="users-message",
                                   color_scheme=rx.cond(UsersState.is_error, "red", "blue")))),
        rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                      rx.table.body(rx.foreach(UsersState.users, _row)), size="1", width="100%", id="users-table"),
        _confirm(),
        spacing="3", width="100%",
    ))


@public_page(SET_PASSWORD_PATH, "Set your password · SecureGuard", on_load=[SetPasswordState.load])
def set_password() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Choose your password", size="5"),
                    rx.cond(SetPasswordState.message != "",
                            rx.callout(SetPasswordState.message, id="set-password-message", width="100%",
                                       color_scheme=rx.cond(SetPasswordState.is_error, "red", "grass"))),
                    rx.cond(
                        SetPasswordState.done,
                        rx.link("Go to sign-in", href="/login", id="set-password-login"),
                        rx.vstack(
                            rx.input(name="password", type="password", placeholder="New password", required=True,
                                     auto_complete="new-password", id="new-password", width="100%"),
                            rx.input(name="again", type="password", placeholder="Repeat it", required=True,
                                     auto_complete="new-password", id="new-password-again", width="100%"),
                            rx.button("Set password", type="submit", width="100%", id="set-password-submit",
                                      disabled=~SetPasswordState.is_hydrated),
                            width="100%",
                        ),
                    ),
                    spacing="3", width="22em",
                ),
                on_submit=SetPasswordState.set_password, reset_on_submit=True,
            ),
            size="4",
        ),
        height="100vh",
    )
