"""What the Integrations page's Edit form shows and sends back: the integration's fields filled (secrets never:
their inputs stay empty with an "unchanged" placeholder, and an empty secret keeps the stored one, as PATCH
does), and its routing rebuilt from the form (quiet hours, namespaces and kinds in or out) over the stored one."""

from __future__ import annotations

from typing import Any

from models.public.notifications import IntegrationPublic
from models.queries.notifications import SECRET_FIELDS

LABELS = {
    "url": "URL", "secret": "Signing secret", "token": "HEC token", "index": "Index", "sourcetype": "Source type",
    "email": "Account email", "api_token": "API token", "project": "Project key", "issue_type": "Issue type",
    "host": "Host", "port": "Port", "transport": "Transport (tcp, tls or udp)",
}
UNCHANGED = "unchanged — type a new value to replace it"


def edit_fields(item: IntegrationPublic, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """The kind's config inputs: name, label, current value (never a secret's), secret flag, placeholder."""
    out = []
    for name in fields:
        secret = name in SECRET_FIELDS.get(item.kind, ())
        out.append({
            "name": name,
            "label": LABELS.get(name, name) + (" (kept secret)" if secret else ""),
            "value": "" if secret else str(item.config.get(name, "")),
            "secret": "1" if secret else "",
            "placeholder": UNCHANGED if secret and name in item.secrets_set else "",
        })
    return out


def _joined(routing: dict[str, Any], key: str, side: str) -> str:
    part = routing.get(key) or {}
    return ", ".join(part.get(side) or ()) if isinstance(part, dict) else ""


def edit_values(item: IntegrationPublic) -> dict[str, str]:
    """The form's other inputs as they stand."""
    routing = item.routing or {}
    quiet = routing.get("quiet_hours") or {}
    return {
        "name": item.name, "min_severity": item.min_severity, "enabled": "on" if item.enabled else "",
        "quiet_start": str(quiet.get("start", "")), "quiet_end": str(quiet.get("end", "")),
        "namespaces_include": _joined(routing, "namespaces", "include"),
        "namespaces_exclude": _joined(routing, "namespaces", "exclude"),
        "kinds_include": _joined(routing, "kinds", "include"), "kinds_exclude": _joined(routing, "kinds", "exclude"),
        "template": item.template,
    }


def _names(text: Any) -> list[str]:
    return [part.strip() for part in str(text or "").replace("\n", ",").split(",") if part.strip()]


def routing_from_form(stored: dict[str, Any], form: dict[str, Any]) -> dict[str, Any]:
    """The stored routing with the form's quiet hours, namespaces and kinds (an empty pair removes its key)."""
    routing = dict(stored or {})
    quiet = {k: str(form.get(f"quiet_{k}", "")).strip() for k in ("start", "end")}
    if any(quiet.values()):
        routing["quiet_hours"] = quiet
    else:
        routing.pop("quiet_hours", None)
    for key in ("namespaces", "kinds"):
        include, exclude = _names(form.get(f"{key}_include")), _names(form.get(f"{key}_exclude"))
        if include or exclude:
            routing[key] = {"include": include, "exclude": exclude}
        else:
            routing.pop(key, None)
    return routing
