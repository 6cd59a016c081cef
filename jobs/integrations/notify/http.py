"""HTTP senders for Slack incoming webhooks, Splunk HEC, the signed webhook and Jira Cloud (REST v3).

The caller owns the `httpx.AsyncClient` (one per drain; tests hand one with a MockTransport). Answers are read
with `pacing.classify_status`: 2xx sent, 408/425/429/5xx `Retryable` (Retry-After honoured), other 4xx `Permanent`,
each carrying the receiver's answer with the integration's secrets redacted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from jobs.engines.notify import jira
from jobs.engines.notify.messages import webhook_request
from jobs.engines.notify.notice import Notice
from jobs.engines.notify.pacing import classify_status, parse_retry_after
from jobs.integrations.notify.errors import Permanent, Retryable, redact
from jobs.integrations.notify.guard import check_receiver

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def _answer(response: httpx.Response, secrets: Sequence[str]) -> str:
    return redact(f"HTTP {response.status_code}: {response.text[:400]}".strip(), list(secrets))


def check_answer(response: httpx.Response, *, secrets: Sequence[str], now: datetime) -> None:
    """Return on 2xx; raise Retryable or Permanent with the receiver's answer otherwise."""
    verdict = classify_status(response.status_code)
    if verdict == "sent":
        return
    answer = _answer(response, secrets)
    if verdict == "retry":
        raise Retryable(answer, retry_after_s=parse_retry_after(response.headers.get("Retry-After"), now=now))
    raise Permanent(answer)


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    secrets: Sequence[str],
    allowed: frozenset[str],
    now: datetime,
    auth: tuple[str, str] | None = None,
) -> httpx.Response:
    """POST after the SSRF guard; connection failures and timeouts are Retryable."""
    parts = urlsplit(url)
    await check_receiver(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), allowed=allowed)
    try:
        response = await client.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", **headers},
            auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
            timeout=TIMEOUT,
            follow_redirects=False,
        )
    except httpx.TransportError as exc:
        raise Retryable(redact(f"{type(exc).__name__}: {exc}", list(secrets))) from exc
    check_answer(response, secrets=secrets, now=now)
    return response


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


async def send_webhook(
    client: httpx.AsyncClient,
    *,
    url: str,
    secret: str,
    payload: dict[str, Any],
    key: str,
    allowed: frozenset[str],
    now: datetime,
) -> None:
    """The signed webhook (timestamp + HMAC-SHA256 headers, Idempotency-Key)."""
    body, headers = webhook_request(payload, secret=secret, sent_at=now, delivery_key=key)
    await post_json(client, url, body=body, headers=headers, secrets=[secret], allowed=allowed, now=now)


async def send_hec(
    client: httpx.AsyncClient,
    *,
    url: str,
    token: str,
    events: Sequence[dict[str, Any]],
    allowed: frozenset[str],
    now: datetime,
) -> None:
    """Events to Splunk's HTTP Event Collector (`Authorization: Splunk <token>`), batched as HEC takes them."""
    endpoint = url if "/services/collector" in url else url.rstrip("/") + "/services/collector/event"
    body = b"\n".join(dumps(event) for event in events)
    await post_json(
        client,
        endpoint,
        body=body,
        headers={"Authorization": f"Splunk {token}"},
        secrets=[token],
        allowed=allowed,
        now=now,
    )


async def find_jira_issue(
    client: httpx.AsyncClient,
    *,
    base: str,
    auth: tuple[str, str],
    project: str,
    incident_id: int,
    allowed: frozenset[str],
    now: datetime,
    label: str = "",
) -> str:
    """The key of the issue already made for the incident or report (by `label`; '' if none): a create whose
    answer was lost."""
    parts = urlsplit(base)
    await check_receiver(parts.hostname or "", parts.port or 443, allowed=allowed)
    try:
        response = await client.get(
            base.rstrip("/") + "/rest/api/3/search/jql",
            auth=auth,
            timeout=TIMEOUT,
            params={
                "jql": jira.search_issue_jql(project=project, incident_id=incident_id, label=label),
                "fields": "key",
                "maxResults": "1",
            },
        )
    except httpx.TransportError as exc:
        raise Retryable(f"{type(exc).__name__}: {exc}") from exc
    check_answer(response, secrets=[auth[1]], now=now)
    issues = response.json().get("issues") or []
    return str(issues[0]["key"]) if issues else ""


async def send_jira(
    client: httpx.AsyncClient,
    *,
    config: dict[str, str],
    notice: Notice,
    issue_key: str,
    retried: bool,
    allowed: frozenset[str],
    now: datetime,
) -> str:
    """Create the incident's issue, or comment on `issue_key`; returns the issue key. A retried create first
    looks for the issue by its label, so an outage never leaves two issues for one incident."""
    base, auth = config["url"].rstrip("/"), (config["email"], config["api_token"])
    if not issue_key and (retried or notice.kind == "update"):
        issue_key = await find_jira_issue(
            client,
            base=base,
            auth=auth,
            project=config["project"],
            incident_id=notice.incident_id,
            allowed=allowed,
            now=now,
            label=jira.label_of(notice),
        )
    if issue_key:
        await post_json(
            client,
            f"{base}/rest/api/3/issue/{issue_key}/comment",
            body=dumps(jira.add_comment(notice)),
            headers={},
            secrets=[auth[1]],
            allowed=allowed,
            now=now,
            auth=auth,
        )
        return issue_key
    body = dumps(jira.create_issue(notice, project=config["project"], issue_type=config["issue_type"]))
    response = await post_json(
        client,
        f"{base}/rest/api/3/issue",
        body=body,
        headers={},
        secrets=[auth[1]],
        allowed=allowed,
        now=now,
        auth=auth,
    )
    key = response.json().get("key")
    if not isinstance(key, str) or not key:
        raise Permanent(f"Jira answered {response.status_code} without an issue key")
    return key
