"""Bodies for HTTP receivers: Slack Block Kit, Splunk HEC, and the generic signed webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from jobs.engines.notify.notice import Notice

SEVERITY_COLOUR = {"critical": "#B3261E", "high": "#E8710A", "medium": "#F2C200", "low": "#1A73E8", "info": "#80868B"}
TOP_REASONS = 3
SIGNATURE_HEADER = "X-SecureGuard-Signature"
TIMESTAMP_HEADER = "X-SecureGuard-Timestamp"
MAX_SLACK_TEXT = 2900  # a section block holds 3,000 characters


def _mrkdwn_escape(text: str) -> str:
    """Slack's three control characters in text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _open_label(notice: Notice) -> str:
    return "Open report" if notice.kind == "report" else "Open incident"


def _slack_fields(notice: Notice) -> list[dict[str, Any]]:
    if notice.kind == "report":
        return [{"type": "mrkdwn", "text": f"*Worst severity*\n{notice.severity}"},
                {"type": "mrkdwn", "text": f"*Incidents*\n{notice.events:,}"}]
    return [
        {"type": "mrkdwn", "text": f"*Severity*\n{notice.severity}"},
        {"type": "mrkdwn", "text": f"*Status*\n{notice.status}"},
        {"type": "mrkdwn", "text": f"*Direction*\n{notice.direction}"},
        {"type": "mrkdwn", "text": f"*Events*\n{notice.events:,}"},
    ]


def slack_message(notice: Notice) -> dict[str, Any]:
    """An incoming-webhook message: a coloured attachment with the headline, explanation, top reasons and a link."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notice.title[:150], "emoji": False}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _mrkdwn_escape(notice.explanation or notice.summary)[:MAX_SLACK_TEXT]},
        },
        {"type": "section", "fields": _slack_fields(notice)},
    ]
    if notice.reasons:
        lines = "\n".join(f"• {_mrkdwn_escape(reason)}" for reason in notice.reasons[:TOP_REASONS])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Top reasons*\n{lines}"}})
    if notice.url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": _open_label(notice)}, "url": notice.url}
                ],
            }
        )
    return {"text": notice.title, "attachments": [{"color": SEVERITY_COLOUR[notice.severity], "blocks": blocks}]}


def slack_digest(notices: Sequence[Notice], *, window: str) -> dict[str, Any]:
    """One summary message for many incidents due at once (a digest), worst first, a line each up to 20."""
    worst = max(notices, key=lambda n: ("info", "low", "medium", "high", "critical").index(n.severity))
    ordered = sorted(notices, key=lambda n: ("critical", "high", "medium", "low", "info").index(n.severity))
    lines = [
        f"• <{n.url}|{_mrkdwn_escape(n.title)}>" if n.url else f"• {_mrkdwn_escape(n.title)}" for n in ordered[:20]
    ]
    if len(ordered) > 20:
        lines.append(f"… and {len(ordered) - 20} more")
    text = f"{len(notices)} incidents in {window}"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": text}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:MAX_SLACK_TEXT]}},
    ]
    return {"text": text, "attachments": [{"color": SEVERITY_COLOUR[worst.severity], "blocks": blocks}]}


def notice_fields(notice: Notice) -> dict[str, Any]:
    """The incident as plain JSON values (HEC's event and the webhook's body share it)."""
    return {
        "incident_id": notice.incident_id,
        "notice": notice.kind,
        "kind": notice.incident_kind,
        "severity": notice.severity,
        "status": notice.status,
        "direction": notice.direction,
        "entity": notice.entity,
        "service": notice.service,
        "namespace": notice.namespace,
        "summary": notice.summary,
        "explanation": notice.explanation,
        "reasons": list(notice.reasons),
        "sources": list(notice.sources),
        "hosts": list(notice.hosts),
        "ports": list(notice.ports),
        "events": notice.events,
        "first_seen": notice.first_seen.isoformat(),
        "last_seen": notice.last_seen.isoformat(),
        "updated_at": notice.updated_at.isoformat(),
        "url": notice.url,
    }


def hec_event(
    notice: Notice, *, host: str, index: str = "", sourcetype: str = "secureguard:incident", source: str = "secureguard"
) -> dict[str, Any]:
    """A Splunk HTTP Event Collector event (`/services/collector/event`); `time` in epoch seconds."""
    event: dict[str, Any] = {
        "time": round(notice.updated_at.timestamp(), 3),
        "host": host,
        "source": source,
        "sourcetype": sourcetype,
        "event": notice_fields(notice),
        "fields": {"severity": notice.severity, "kind": notice.incident_kind, "incident_id": str(notice.incident_id)},
    }
    if index:
        event["index"] = index
    return event


def sign_webhook(body: bytes, *, secret: str, timestamp: int) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `"{timestamp}." + body`, so a replayed body with a new time fails."""
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_webhook(
    body: bytes, *, secret: str, timestamp: int, signature: str, now: int, tolerance_s: int = 300
) -> bool:
    """The receiver's check: signature matches and the timestamp is within `tolerance_s` of `now`."""
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign_webhook(body, secret=secret, timestamp=timestamp), signature)


def webhook_request(
    payload: dict[str, Any], *, secret: str, sent_at: datetime, delivery_key: str
) -> tuple[bytes, dict[str, str]]:
    """The body (compact JSON) and headers of a signed webhook delivery."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    stamp = int(sent_at.timestamp())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(stamp),
        SIGNATURE_HEADER: sign_webhook(body, secret=secret, timestamp=stamp),
        "Idempotency-Key": delivery_key,
    }
    return body, headers
