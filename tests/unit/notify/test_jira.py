"""Jira v3 payloads: ADF documents, issue fields, comments."""

from __future__ import annotations

from jobs.engines.notify.jira import add_comment, create_issue, search_issue_jql
from tests.unit.notify.builders import notice


def _walk_texts(node: dict) -> list[str]:
    found = [node["text"]] if node.get("type") == "text" else []
    for child in node.get("content", []):
        found += _walk_texts(child)
    return found


def test_create_issue_has_project_type_summary_adf_and_labels() -> None:
    fields = create_issue(notice(), project="SEC", issue_type="Bug", priority=True)["fields"]
    assert fields["project"] == {"key": "SEC"} and fields["issuetype"] == {"name": "Bug"}
    assert fields["priority"] == {"name": "High"}
    assert fields["description"]["type"] == "doc" and fields["description"]["version"] == 1
    texts = _walk_texts(fields["description"])
    assert "fourth reason" in texts and texts[0].startswith("1,512 sources")
    assert "secureguard-incident-42" in fields["labels"]
    assert len(create_issue(notice(entity="x" * 400), project="S", issue_type="Task")["fields"]["summary"]) == 255


def test_comment_says_update_and_links_back() -> None:
    body = add_comment(notice(kind="update", status="acknowledged"))["body"]
    texts = _walk_texts(body)
    assert texts[0] == "Update: [HIGH] scan — 198.51.100.0/24"
    assert any("acknowledged" in text for text in texts)
    link = body["content"][-1]["content"][0]["marks"][0]
    assert link["attrs"]["href"].endswith("incident=42")


def test_jql_finds_the_incident_label() -> None:
    assert search_issue_jql(project="SEC", incident_id=7) == (
        'project = "SEC" AND labels = "secureguard-incident-7" ORDER BY created ASC'
    )
