"""Send notices to one integration, by its kind: each returns the receiver's reference per notice (a Jira key)."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from jobs.engines.notify.cef import format_cef
from jobs.engines.notify.messages import hec_event, notice_fields, slack_digest, slack_message
from jobs.engines.notify.notice import Notice
from jobs.engines.notify.syslog import frame_rfc5424
from jobs.integrations.notify.errors import Permanent
from jobs.integrations.notify.guard import check_receiver
from jobs.integrations.notify.http import dumps, post_json, send_hec, send_jira, send_webhook
from jobs.integrations.notify.syslog import send_syslog


@dataclass(frozen=True, slots=True)
class Target:
    """An integration as the sender needs it: kind, readable config and secrets in clear, the allow-list."""

    kind: str
    config: dict[str, Any]
    secrets: dict[str, str]
    allowed: frozenset[str]

    @property
    def merged(self) -> dict[str, Any]:
        return {**self.config, **self.secrets}


async def send_batch(client: httpx.AsyncClient, target: Target, notices: Sequence[Notice], *, now: datetime) -> None:
    """Receivers that take many notices in one go (syslog, HEC): one connection or request for all."""
    conf = target.merged
    if target.kind == "syslog":
        await check_receiver(conf["host"], int(conf["port"]), allowed=target.allowed)
        lines = [
            frame_rfc5424(format_cef(n), severity=n.severity, timestamp=now, hostname=socket.gethostname())
            for n in notices
        ]
        await send_syslog(conf["host"], int(conf["port"]), conf.get("transport", "tcp"), lines)
    elif target.kind == "splunk_hec":
        events = [
            hec_event(
                n,
                host=socket.gethostname(),
                index=conf.get("index", ""),
                sourcetype=conf.get("sourcetype") or "secureguard:incident",
            )
            for n in notices
        ]
        await send_hec(client, url=conf["url"], token=conf["token"], events=events, allowed=target.allowed, now=now)
    else:
        raise Permanent(f"{target.kind} does not take batches")


async def send_one(
    client: httpx.AsyncClient, target: Target, notice: Notice, *, key: str, issue_key: str, retried: bool, now: datetime
) -> str:
    """One notice to a one-at-a-time receiver; returns the receiver's reference ('' when it gives none)."""
    conf = target.merged
    if target.kind == "slack":
        await post_json(
            client,
            conf["url"],
            body=dumps(slack_message(notice)),
            headers={},
            secrets=[conf["url"]],
            allowed=target.allowed,
            now=now,
        )
        return ""
    if target.kind == "webhook":
        await send_webhook(
            client,
            url=conf["url"],
            secret=conf["secret"],
            payload=notice_fields(notice),
            key=key,
            allowed=target.allowed,
            now=now,
        )
        return ""
    if target.kind == "jira":
        return await send_jira(
            client, config=conf, notice=notice, issue_key=issue_key, retried=retried, allowed=target.allowed, now=now
        )
    await send_batch(client, target, [notice], now=now)
    return ""


async def send_digest(
    client: httpx.AsyncClient, target: Target, notices: Sequence[Notice], *, key: str, now: datetime
) -> None:
    """One summary for many incidents (Slack and the webhook)."""
    conf = target.merged
    if target.kind == "slack":
        await post_json(
            client,
            conf["url"],
            body=dumps(slack_digest(notices, window="this minute")),
            headers={},
            secrets=[conf["url"]],
            allowed=target.allowed,
            now=now,
        )
    elif target.kind == "webhook":
        payload = {"notice": "digest", "count": len(notices), "incidents": [notice_fields(n) for n in notices]}
        await send_webhook(
            client, url=conf["url"], secret=conf["secret"], payload=payload, key=key, allowed=target.allowed, now=now
        )
    else:
        raise Permanent(f"{target.kind} takes no digest")
