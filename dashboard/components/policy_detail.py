"""The policy review dialog: YAML, diff, proof, notes, impact preview, and the review actions."""

from __future__ import annotations

import reflex as rx

from dashboard.components.bindings import array, event, mapping
from dashboard.components.policy_badges import policy_status_badge
from state.policy_detail import PolicyDetailState
from state.policy_downloads import PolicyDownloadState

S = PolicyDetailState


def _proof() -> rx.Component:
    p = S.proof
    exact = rx.callout(
        rx.text("Allows exactly the ", rx.text.strong(p["observed"]), " observed connections of this workload, "
                "nothing more (checked by SecureGuard's NetworkPolicy evaluator)."),
        icon="shield-check", color_scheme="grass", size="1", id="policy-proof")
    inexact = rx.callout(
        rx.vstack(
            rx.text("Not exact: ", p["extra"], " connection(s) allowed but not observed, ", p["missing"],
                    " observed but not allowed."),
            rx.foreach(S.extra, lambda c: rx.text("allowed, not observed: ", rx.code(c), size="1")),
            rx.foreach(S.missing, lambda c: rx.text("observed, not allowed: ", rx.code(c), size="1")),
            spacing="1"),
        icon="triangle-alert", color_scheme="amber", size="1", id="policy-proof")
    return rx.vstack(
        rx.cond(p["exact"] == "yes", exact, inexact),
        rx.text("Kubernetes schema: ", rx.code(p["schema"]), size="1", id="policy-schema"),
        spacing="2", width="100%")


def _notes() -> rx.Component:
    return rx.cond(array(S.notes).length() > 0, rx.vstack(
        rx.text("Notes for the reviewer", weight="bold", size="2"),
        rx.foreach(S.notes, lambda n: rx.text("• ", n, size="1")),
        spacing="1", id="policy-notes"))


def _impact() -> rx.Component:
    head = rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                          ("Flow it would block", "Flows", "Bytes", "Snapshots", "Refused at")]))
    body = rx.table.body(rx.foreach(S.impact, lambda b: rx.table.row(
        rx.table.cell(rx.code(b["flow"], size="1")), rx.table.cell(b["flows"]), rx.table.cell(b["bytes"]),
        rx.table.cell(b["snapshots"]), rx.table.cell(b["side"]))))
    return rx.vstack(
        rx.hstack(
            rx.text("Impact preview", weight="bold", size="2"),
            rx.form(rx.hstack(
                rx.text("newest", size="1"),
                rx.input(name="snapshots", type="number", min=1, max=168, default_value=S.impact_snapshots,
                         size="1", width="5em"),
                rx.text("windows of this namespace", size="1"),
                rx.button("Preview", size="1", variant="soft", type="submit", id="impact-preview")),
                on_submit=S.preview_impact, reset_on_submit=False),
            align="center", spacing="3"),
        rx.text(S.impact_summary, size="2", id="policy-impact-summary"),
        rx.cond(array(S.impact).length() > 0, rx.table.root(head, body, size="1", width="100%", id="policy-impact")),
        spacing="2", width="100%")


def _actions() -> rx.Component:
    return rx.hstack(
        rx.cond(S.can_submit, rx.button("Submit for review", size="2", on_click=event(S.ask)("submit"),
                                        id="policy-submit")),
        rx.cond(S.can_review, rx.button("Approve", size="2", color_scheme="grass", on_click=event(S.ask)("approve"),
                                        disabled=S.approve_blocked != "", id="policy-approve")),
        rx.cond(S.can_review & (S.approve_blocked != ""),
                rx.text(S.approve_blocked, size="1", color_scheme="amber", id="policy-approve-blocked")),
        rx.cond(S.can_review, rx.button("Reject", size="2", color_scheme="red", variant="soft",
                                        on_click=event(S.ask)("reject"), id="policy-reject")),
        rx.button("Download YAML", size="2", variant="outline", id="policy-download",
                  on_click=event(PolicyDownloadState.download_policy)(mapping(S.policy)["id"].to(int))),
        spacing="3")


def _confirm() -> rx.Component:
    words = {"submit": "Submit this policy for review?", "approve": "Approve this policy?",
             "reject": "Reject this policy?"}
    return rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title(rx.match(S.confirming, *words.items(), "")),
        rx.alert_dialog.description(
            S.policy["namespace"], "/", S.policy["name"], " ", S.policy["version"], ". ",
            rx.match(S.confirming, ("approve", S.impact_summary),
                     ("reject", "The submitter will read your reason."), ""),
            rx.cond(S.confirming == "approve", rx.cond(
                S.policy["gitops"] == "yes", " Approval opens a pull request.",
                " GitOps is not configured: approval opens no pull request."), ""),
            size="2"),
        rx.form(
            rx.vstack(
                rx.input(name="reason", id="policy-reason", width="100%", required=S.confirming == "reject",
                         placeholder=rx.cond(S.confirming == "reject", "reason (required)", "comment (optional)")),
                rx.hstack(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", type="button", on_click=S.cancel)),
                          rx.button("Confirm", type="submit", id="policy-confirm"), justify="end", spacing="3",
                          width="100%"),
                spacing="3", margin_top="1em"),
            on_submit=S.confirm),
    ), open=S.confirming != "")


def detail_panel() -> rx.Component:
    """A dialog with everything a reviewer needs about one policy version."""
    p = S.policy
    dialog = rx.dialog.root(rx.dialog.content(
        rx.vstack(
            rx.hstack(rx.heading(p["namespace"], "/", p["name"], size="4", id="policy-title"),
                      rx.badge(p["version"], variant="surface"), policy_status_badge(p["status"]), align="center"),
            rx.text("Workload ", rx.code(p["workload"]),
                    rx.cond(p["submitted_by"] != "", rx.text.span(" · submitted by ", p["submitted_by"])), " · ",
                    rx.link("link to this policy", href="/policies?policy=" + p["id"], id="policy-link"), size="2"),
            rx.text("Learned from ", p["observed"], size="2", id="policy-observed"),
            rx.cond(p["brief"] != "", rx.callout(
                rx.text("Observed only briefly: ", p["brief"], ". Traffic that did not occur in that time (a nightly "
                        "job, a failover) would be blocked; Calico advises about 5 days of observation."),
                icon="triangle-alert", color_scheme="amber", size="1", id="policy-brief")),
            rx.cond(S.notice != "", rx.callout(S.notice, size="1", color_scheme=rx.cond(S.notice_error, "red", "grass"),
                                               id="policy-notice")),
            _actions(),
            rx.cond(PolicyDownloadState.download_message != "",
                    rx.text(PolicyDownloadState.download_message, size="1")),
            _proof(),
            _impact(),
            _notes(),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("YAML", value="yaml"),
                    rx.tabs.trigger(rx.cond(p["approved_id"] != "", "Diff against approved", "Diff (new policy)"),
                                    value="diff", id="policy-diff-tab")),
                rx.tabs.content(rx.code_block(S.yaml_text, language="yaml", show_line_numbers=True,
                                              id="policy-yaml", width="100%"), value="yaml"),
                rx.tabs.content(rx.code_block(S.diff_text, language="diff", id="policy-diff", width="100%"),
                                value="diff"),
                default_value="yaml", width="100%"),
            rx.cond(array(S.reviews).length() > 0, rx.vstack(
                rx.text("Reviews", weight="bold", size="2"),
                rx.foreach(S.reviews, lambda r: rx.text(r["at"], " · ", r["reviewer"], " · ", r["decision"],
                                                        rx.cond(r["reason"] != "", ": " + r["reason"], ""), size="1")),
                spacing="1", id="policy-reviews")),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", on_click=S.close)), justify="end",
                      width="100%"),
            spacing="3", width="100%"),
        max_width="1100px",
    ), open=S.is_open, on_open_change=lambda _: event(S.close)())
    return rx.fragment(dialog, _confirm())
