"""A tenant's integrations: create, read, change, delete, with their settings checked per kind and their secrets
sealed (`models.secretbox`, like the GitOps token), write-only, and audited without their values.

Config per kind (the REST contract of issue 18); fields marked * are secrets, kept sealed:

    slack       {"url"*}                                   an incoming-webhook URL (the URL is the credential)
    webhook     {"url", "secret"*}                         the signing secret is generated when not given
    splunk_hec  {"url", "token"*, "index", "sourcetype"}
    jira        {"url", "email", "api_token"*, "project", "issue_type"}
    syslog      {"host", "port", "transport": tcp|udp|tls, "format": "cef"}

URLs are https://, or http:// for a host in SG_NOTIFY_ALLOWED_HOSTS (a local test receiver); whether a host
resolves to a local or private address is checked at every send (`jobs.integrations.notify.guard`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.drift import SEVERITIES
from models.errors import Conflict, Invalid, NotFound
from models.notifications import INTEGRATION_KINDS, Integration
from models.public.notifications import IntegrationPublic
from models.queries.audit import record_audit
from models.queries.notification_outbox import delete_deliveries
from models.secretbox import seal, unseal
from models.settings import get_settings
from models.types import utcnow

SECRET_FIELDS: dict[str, tuple[str, ...]] = {
    "slack": ("url",),
    "webhook": ("secret",),
    "splunk_hec": ("token",),
    "jira": ("api_token",),
    "syslog": (),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "slack": ("url",),
    "webhook": ("url",),
    "splunk_hec": ("url", "token"),
    "jira": ("url", "email", "api_token", "project", "issue_type"),
    "syslog": ("host", "port"),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "slack": (),
    "webhook": ("secret",),
    "splunk_hec": ("index", "sourcetype"),
    "jira": (),
    "syslog": ("transport", "format"),
}
TRANSPORTS = ("tcp", "udp", "tls")
MAX_FIELD = 1000
MAX_TEMPLATE = 4000


def check_url(value: str, *, field: str) -> str:
    """An https:// URL without credentials; http:// only for a host in SG_NOTIFY_ALLOWED_HOSTS."""
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise Invalid(f"{field} must be an https:// URL")
    if "@" in parts.netloc:
        raise Invalid(f"{field} must not carry a user name or password")
    allowed = get_settings().notify_hosts
    if parts.scheme == "http" and host not in allowed and f"{host}:{parts.port}" not in allowed:
        raise Invalid(f"{field} must use https:// (plain http:// only for hosts in SG_NOTIFY_ALLOWED_HOSTS)")
    return value


def _text(config: Mapping[str, Any], name: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"config.{name} is required")
    if len(value) > MAX_FIELD or any(ord(ch) < 32 for ch in value):
        raise Invalid(f"config.{name} must be one line of at most {MAX_FIELD} characters")
    return value.strip()


def _syslog(config: Mapping[str, Any]) -> dict[str, Any]:
    port = config.get("port")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise Invalid("config.port must be a whole number 1–65535")
    transport = config.get("transport", "tcp")
    if transport not in TRANSPORTS:
        raise Invalid(f"config.transport must be one of {', '.join(TRANSPORTS)}")
    if config.get("format", "cef") != "cef":
        raise Invalid('config.format must be "cef"')
    host = _text(config, "host")
    if any(ch in host for ch in "/@ "):
        raise Invalid("config.host must be a host name or address, not a URL")
    return {"host": host, "port": port, "transport": transport, "format": "cef"}


def split_config(kind: str, config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The readable settings and the secrets of a kind's config, checked; unknown fields are refused."""
    if kind not in INTEGRATION_KINDS:
        raise Invalid(f"kind must be one of {', '.join(INTEGRATION_KINDS)}")
    known = {*REQUIRED[kind], *OPTIONAL[kind]}
    unknown = sorted(set(config) - known)
    if unknown:
        raise Invalid(f"config for {kind} does not take {', '.join(unknown)} (it takes {', '.join(sorted(known))})")
    if kind == "syslog":
        return _syslog(config), {}
    values = {name: _text(config, name) for name in REQUIRED[kind]}
    values |= {name: _text(config, name) for name in OPTIONAL[kind] if config.get(name) not in (None, "")}
    if "url" in values:
        check_url(values["url"], field="config.url")
    hidden = {name: values.pop(name) for name in SECRET_FIELDS[kind] if name in values}
    return values, hidden


def read_secrets(row: Integration) -> dict[str, str]:
    """The integration's secrets in clear, for the sender only."""
    if not row.config_encrypted:
        return {}
    opened: dict[str, str] = json.loads(unseal(row.config_encrypted))
    return opened


def public(row: Integration) -> IntegrationPublic:
    """The answer for an integration: settings and which secrets are set, never their values."""
    return IntegrationPublic.of(row, secrets_set=list(read_secrets(row)) if row.config_encrypted else [])


def _severity(value: str) -> str:
    if value not in SEVERITIES:
        raise Invalid(f"min_severity must be one of {', '.join(reversed(SEVERITIES))}")
    return value


def _name(value: str) -> str:
    name = (value or "").strip()
    if not name or len(name) > 80:
        raise Invalid("name is required, at most 80 characters")
    return name


async def _name_free(session: AsyncSession, *, tenant_id: int, name: str, other_than: int | None = None) -> None:
    query = select(Integration.id).where(Integration.tenant_id == tenant_id, Integration.name == name)
    if other_than is not None:
        query = query.where(col(Integration.id) != other_than)
    if (await session.exec(query)).first() is not None:
        raise Conflict(f"an integration named {name!r} exists already")


async def create_integration(
    session: AsyncSession,
    *,
    tenant_id: int,
    actor: str,
    kind: str,
    name: str,
    min_severity: str,
    config: Mapping[str, Any],
    routing: Mapping[str, Any] | None = None,
    template: str = "",
    enabled: bool = True,
) -> tuple[Integration, str | None]:
    """A new integration; returns it and the webhook signing secret when one was generated (shown once)."""
    readable, hidden = split_config(kind, config)
    generated = None
    if kind == "webhook" and "secret" not in hidden:
        generated = hidden["secret"] = secrets.token_urlsafe(32)
    if len(template) > MAX_TEMPLATE:
        raise Invalid(f"template must be at most {MAX_TEMPLATE} characters")
    row = Integration(
        tenant_id=tenant_id,
        kind=kind,
        name=_name(name),
        min_severity=_severity(min_severity),
        config=readable,
        config_encrypted=seal(json.dumps(hidden)) if hidden else "",
        routing=dict(routing or {}),
        template=template,
        enabled=enabled,
    )
    await _name_free(session, tenant_id=tenant_id, name=row.name)
    session.add(row)
    await session.flush()
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="integration.create",
        target=f"integration:{row.id}",
        after=public(row).model_dump(mode="json"),
    )
    return row, generated


async def get_integration(session: AsyncSession, *, tenant_id: int, integration_id: int) -> Integration:
    """The tenant's integration, or NotFound (also when another tenant has that id)."""
    row = (
        await session.exec(
            select(Integration).where(Integration.tenant_id == tenant_id, Integration.id == integration_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"integration {integration_id} not found")
    return row


async def list_integrations(session: AsyncSession, *, tenant_id: int) -> list[Integration]:
    """The tenant's integrations by name."""
    query = select(Integration).where(Integration.tenant_id == tenant_id).order_by(col(Integration.name))
    return list(await session.exec(query))


async def update_integration(
    session: AsyncSession,
    *,
    tenant_id: int,
    integration_id: int,
    actor: str,
    changes: Mapping[str, Any],
) -> Integration:
    """Change name, min_severity, enabled, routing, template or config; a config secret left out or empty keeps
    the stored one."""
    row = await get_integration(session, tenant_id=tenant_id, integration_id=integration_id)
    before = public(row).model_dump(mode="json")
    if "name" in changes:
        row.name = _name(changes["name"])
        await _name_free(session, tenant_id=tenant_id, name=row.name, other_than=integration_id)
    if "min_severity" in changes:
        row.min_severity = _severity(changes["min_severity"])
    if "enabled" in changes:
        row.enabled = bool(changes["enabled"])
    if "routing" in changes:
        row.routing = dict(changes["routing"] or {})
    if "template" in changes:
        if len(changes["template"] or "") > MAX_TEMPLATE:
            raise Invalid(f"template must be at most {MAX_TEMPLATE} characters")
        row.template = changes["template"] or ""
    if "config" in changes:
        stored = read_secrets(row)
        merged = {**row.config, **stored, **{k: v for k, v in dict(changes["config"]).items() if v not in (None, "")}}
        readable, hidden = split_config(row.kind, merged)
        row.config, row.config_encrypted = readable, seal(json.dumps(hidden)) if hidden else ""
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="integration.update",
        target=f"integration:{row.id}",
        before=before,
        after=public(row).model_dump(mode="json"),
    )
    return row


async def delete_integration(session: AsyncSession, *, tenant_id: int, integration_id: int, actor: str) -> None:
    """Delete the integration and its deliveries."""
    row = await get_integration(session, tenant_id=tenant_id, integration_id=integration_id)
    before = public(row).model_dump(mode="json")
    await delete_deliveries(session, tenant_id=tenant_id, integration_id=integration_id)
    await session.delete(row)
    await session.flush()
    await record_audit(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="integration.delete",
        target=f"integration:{integration_id}",
        before=before,
    )
