"""Jira Cloud REST v3 payloads: create an issue for a new incident, a comment for each later update.

Bodies use the Atlassian document format (ADF), which v3 requires for `description` and comment `body`.
"""

from __future__ import annotations

from typing import Any

from jobs.engines.notify.notice import Notice

JIRA_PRIORITY = {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low", "info": "Lowest"}
MAX_SUMMARY = 255  # Jira's summary field limit


def _paragraph(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": text}] if text else []}


def _link(text: str, url: str) -> dict[str, Any]:
    return {
        "type": "paragraph",
        "content": [{"type": "text", "text": text, "marks": [{"type": "link", "attrs": {"href": url}}]}],
    }


def adf_document(notice: Notice) -> dict[str, Any]:
    """The incident as an ADF document: explanation, facts, reasons as a bullet list, a link back."""
    content: list[dict[str, Any]] = [_paragraph(notice.explanation or notice.summary)]
    facts = (
        f"Severity: {notice.severity} · Status: {notice.status} · Direction: {notice.direction} · "
        f"Events: {notice.events}"
    )
    content.append(_paragraph(facts))
    if notice.reasons:
        content.append(
            {
                "type": "bulletList",
                "content": [{"type": "listItem", "content": [_paragraph(reason)]} for reason in notice.reasons],
            }
        )
    if notice.url:
        what = "report" if notice.kind == "report" else "incident"
        content.append(_link(f"Open the {what} in SecureGuard", notice.url))
    return {"type": "doc", "version": 1, "content": content}


def create_issue(notice: Notice, *, project: str, issue_type: str, priority: bool = False) -> dict[str, Any]:
    """`POST /rest/api/3/issue` body; labels carry the incident id so a lost answer can be found again."""
    fields: dict[str, Any] = {
        "project": {"key": project},
        "issuetype": {"name": issue_type},
        "summary": notice.title[:MAX_SUMMARY],
        "description": adf_document(notice),
        "labels": ["secureguard", label_of(notice)],
    }
    if priority:
        fields["priority"] = {"name": JIRA_PRIORITY[notice.severity]}
    return {"fields": fields}


def add_comment(notice: Notice) -> dict[str, Any]:
    """`POST /rest/api/3/issue/{key}/comment` body for an update of the incident."""
    document = adf_document(notice)
    headline = notice.title if notice.kind == "update" else f"Update: {notice.title}"
    document["content"].insert(0, _paragraph(headline))
    return {"body": document}


def label_of(notice: Notice) -> str:
    """The label that finds the notice's issue again: the incident's, or a report's own (`extra["label"]`)."""
    return notice.extra.get("label") or f"secureguard-incident-{notice.incident_id}"


def search_issue_jql(*, project: str, incident_id: int = 0, label: str = "") -> str:
    """JQL finding the issue already made for an incident or a report (after a create whose answer was lost)."""
    label = label or f"secureguard-incident-{incident_id}"
    return f'project = "{project}" AND labels = "{label}" ORDER BY created ASC'
