"""The GitOps settings card: admins edit (token write-only), everyone else reads; connection test."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import array
from models.queries.gitops import PROVIDERS
from state.gitops import GitopsState


def _field(label: str, control: rx.Component, hint: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, rx.text(hint, size="1", color_scheme="gray"),
                     spacing="1", width="100%")


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _field("Provider", rx.select(list(PROVIDERS), name="provider", default_value=GitopsState.provider,
                                         id="gitops-provider"),
                   "Where pull (GitHub) or merge (GitLab) requests are opened."),
            _field("Repository", rx.input(name="repo_url", default_value=GitopsState.repo_url, width="100%",
                                          placeholder="https://github.com/acme/netpol.git", id="gitops-repo"),
                   "https://, ssh:// or git@host:owner/repo URL, or an absolute path; no credentials in the URL."),
            rx.hstack(
                _field("Base branch", rx.input(name="base_branch", default_value=GitopsState.base_branch,
                                               id="gitops-branch"), "Pull requests target this branch."),
                _field("Folder", rx.input(name="folder", default_value=GitopsState.folder, id="gitops-folder"),
                       "Files go to <folder>/<namespace>/<name>.yaml."),
                width="100%",
            ),
            _field("Token", rx.input(name="token", type="password", auto_complete="new-password", width="100%",
                                     placeholder=rx.cond(GitopsState.token_set, "•••••• set — type to replace",
                                                         "not set — paste a token"), id="gitops-token"),
                   "Write-only: stored encrypted, never shown again. Leave empty to keep the current one."),
            rx.hstack(
                rx.button(rx.icon("save"), "Save settings", type="submit", id="gitops-save"),
                rx.button(rx.icon("plug"), "Test connection", type="button", variant="soft", id="gitops-test",
                          loading=GitopsState.checking, disabled=~GitopsState.configured,
                          on_click=GitopsState.test_connection),
                spacing="3",
            ),
            spacing="3", width="100%",
        ),
        on_submit=GitopsState.save_settings, reset_on_submit=False, key=GitopsState.form_key, width="100%",
    )


def _summary() -> rx.Component:
    return rx.vstack(
        rx.cond(
            GitopsState.configured,
            rx.data_list.root(
                rx.data_list.item(rx.data_list.label("Provider"), rx.data_list.value(GitopsState.provider)),
                rx.data_list.item(rx.data_list.label("Repository"),
                                  rx.data_list.value("set up by an admin (only admins see its address)")),
                rx.data_list.item(rx.data_list.label("Token"),
                                  rx.data_list.value(rx.cond(GitopsState.token_set, "set", "not set"))),
                id="gitops-summary",
            ),
            rx.text("GitOps is not configured yet.", id="gitops-summary"),
        ),
        rx.text("Only admins change these settings.", size="1", color_scheme="gray"),
    )


def settings_card() -> rx.Component:
    """Settings, the save/validation message and the connection test results."""
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading("Repository settings", size="4"), rx.spacer(),
                      rx.badge(rx.cond(GitopsState.configured, "configured", "not configured"),
                               color_scheme=rx.cond(GitopsState.configured, "grass", "gray"), id="gitops-state")),
            rx.cond(GitopsState.can_edit, _form(), _summary()),
            rx.cond(GitopsState.message != "",
                    rx.callout(GitopsState.message, id="gitops-message", size="1",
                               color_scheme=rx.cond(GitopsState.message_error, "red", "grass"))),
            rx.cond(array(GitopsState.checks).length() > 0,
                    rx.callout(rx.vstack(rx.foreach(GitopsState.checks, lambda c: rx.text(c, size="1"))),
                               id="gitops-checks", size="1",
                               color_scheme=rx.cond(GitopsState.checks_ok, "grass", "red"))),
            spacing="3", width="100%",
        ),
        width="100%", max_width="760px",
    )
