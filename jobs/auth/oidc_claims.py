"""Turn an OpenID Connect user's claims into a SecureGuard identity: tenant name, role, email.

Pure: takes the merged ID-token and userinfo claims plus the configured claim names, returns plain data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.tenancy import ROLE_RANK

MAX_DISPLAY_NAME = 120


class ClaimError(Exception):
    """The claims do not name a usable SecureGuard identity; `message` is safe to show the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class OidcIdentity:
    subject: str
    email: str
    email_verified: bool
    display_name: str
    tenant_name: str
    role: str


def claim_value(claims: Mapping[str, Any], name: str) -> Any:
    """The claim `name`, following dots into nested objects (e.g. Keycloak's `realm_access.roles`)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value: Any) -> list[str]:
    # Providers send a group claim as a list or, with one group, as a plain string.
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return []


def map_tenant(claims: Mapping[str, Any], *, tenant_claim: str) -> str:
    """The one tenant name the claims name; refuses none or several."""
    names = sorted({v.strip() for v in _strings(claim_value(claims, tenant_claim))})
    if not names:
        raise ClaimError("no_tenant", f"Your identity provider sent no {tenant_claim!r} claim naming your tenant.")
    if len(names) > 1:
        raise ClaimError("ambiguous_tenant", f"Your identity provider names several tenants ({', '.join(names)}).")
    return names[0]


def map_role(claims: Mapping[str, Any], *, role_claim: str, role_map: Mapping[str, str], default_role: str) -> str:
    """The highest role any mapped claim value grants; `default_role` when none maps ("" refuses)."""
    granted = [role_map[v] for v in _strings(claim_value(claims, role_claim)) if v in role_map]
    granted = [r for r in granted if r in ROLE_RANK]
    if granted:
        return max(granted, key=ROLE_RANK.__getitem__)
    if default_role in ROLE_RANK:
        return default_role
    raise ClaimError(
        "no_role", f"None of your {role_claim!r} values grants a SecureGuard role. Ask an administrator for access."
    )


def map_identity(
    claims: Mapping[str, Any], *, tenant_claim: str, role_claim: str, role_map: Mapping[str, str],
    default_role: str,
) -> OidcIdentity:
    """Subject, email, tenant and role of the user the claims describe."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise ClaimError("no_subject", "Your identity provider sent no subject identifier.")
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email.strip():
        raise ClaimError("no_email", "Your identity provider sent no email address (ask for the 'email' scope).")
    email = email.strip().lower()
    name = claims.get("name") or claims.get("preferred_username") or email.split("@")[0]
    return OidcIdentity(
        subject=subject,
        email=email,
        email_verified=claims.get("email_verified") is True,
        display_name=str(name).strip()[:MAX_DISPLAY_NAME],
        tenant_name=map_tenant(claims, tenant_claim=tenant_claim),
        role=map_role(claims, role_claim=role_claim, role_map=role_map, default_role=default_role),
    )
