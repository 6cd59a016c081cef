"""Slack, Splunk HEC and webhook bodies; the webhook signature against tampering and replay."""

from __future__ import annotations

import json

from jobs.engines.notify.messages import (
    SEVERITY_COLOUR,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    hec_event,
    notice_fields,
    slack_digest,
    slack_message,
    verify_webhook,
    webhook_request,
)
from tests.unit.notify.builders import T0, notice


def _texts(blocks: list[dict]) -> str:
    return json.dumps(blocks)


def test_slack_message_has_colour_explanation_top_three_reasons_and_link() -> None:
    body = slack_message(notice(explanation="a <b> & c"))
    attachment = body["attachments"][0]
    assert attachment["color"] == SEVERITY_COLOUR["high"]
    text = _texts(attachment["blocks"])
    assert "a &lt;b&gt; &amp; c" in text
    assert "no host answered" in text and "known scanner ASN" in text and "fourth reason" not in text
    button = attachment["blocks"][-1]["elements"][0]
    assert button["url"] == "https://sg.example.com/drift?incident=42"
    assert body["text"].startswith("[HIGH] scan")


def test_slack_digest_lists_worst_first_and_counts_the_rest() -> None:
    items = [notice(incident_id=i, severity="low") for i in range(25)] + [notice(incident_id=99, severity="critical")]
    body = slack_digest(items, window="the last minute")
    assert body["text"] == "26 incidents in the last minute"
    assert body["attachments"][0]["color"] == SEVERITY_COLOUR["critical"]
    lines = body["attachments"][0]["blocks"][1]["text"]["text"].split("\n")
    assert "CRITICAL" in lines[0] and lines[-1] == "… and 6 more" and len(lines) == 21


def test_hec_event_has_the_documented_keys() -> None:
    event = hec_event(notice(), host="sg-01", index="security", sourcetype="sg:incident")
    assert set(event) == {"time", "host", "source", "sourcetype", "index", "event", "fields"}
    assert event["time"] == T0.replace(minute=6).timestamp()
    assert event["event"]["incident_id"] == 42 and event["fields"]["severity"] == "high"
    assert "index" not in hec_event(notice(), host="h")


def test_webhook_signature_verifies_and_rejects_tamper_and_replay() -> None:
    body, headers = webhook_request(notice_fields(notice()), secret="s3cret", sent_at=T0, delivery_key="d-1")
    stamp, signature = int(headers[TIMESTAMP_HEADER]), headers[SIGNATURE_HEADER]
    now = int(T0.timestamp())
    assert headers["Idempotency-Key"] == "d-1"
    assert verify_webhook(body, secret="s3cret", timestamp=stamp, signature=signature, now=now)
    assert not verify_webhook(body + b" ", secret="s3cret", timestamp=stamp, signature=signature, now=now)
    assert not verify_webhook(body, secret="other", timestamp=stamp, signature=signature, now=now)
    assert not verify_webhook(body, secret="s3cret", timestamp=stamp + 1, signature=signature, now=now)
    assert not verify_webhook(body, secret="s3cret", timestamp=stamp, signature=signature, now=now + 301)
    assert json.loads(body)["incident_id"] == 42
