"""The GitOps page: where approved policies go, and the pull requests that carry them."""

from __future__ import annotations

import reflex as rx

from dashboard.components.gitops_form import settings_card
from dashboard.components.gitops_pulls import pulls_table
from dashboard.components.shell import protected_page
from state.gitops import GitopsState
from state.policy_downloads import PolicyDownloadState


@protected_page("/gitops", "GitOps", nav="GitOps", order=70, on_load=[GitopsState.load])
def gitops() -> rx.Component:
    return rx.vstack(
        rx.heading("GitOps", size="6"),
        rx.text("Approved policies are committed with git on a branch secureguard/<namespace>-<name>-v<version> and "
                "proposed as a pull request; merged requests mark the policy deployed (checked every 5 minutes).",
                size="2", color_scheme="gray"),
        settings_card(),
        rx.hstack(
            rx.heading("Pull requests", size="4"), rx.spacer(),
            rx.button(rx.icon("download"), "Download approved bundle", variant="soft", size="2",
                      on_click=PolicyDownloadState.download_bundle, id="download-bundle"),
            width="100%", align="center",
        ),
        rx.cond(PolicyDownloadState.download_message != "",
                rx.callout(PolicyDownloadState.download_message, size="1", id="download-message")),
        rx.cond(GitopsState.last_sync != "",
                rx.callout(GitopsState.last_sync, size="1", id="gitops-last-sync",
                           color_scheme=rx.cond(GitopsState.last_sync_failed, "red", "blue"))),
        pulls_table(),
        spacing="4", width="100%",
    )
