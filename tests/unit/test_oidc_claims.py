"""Claims → tenant, role and email; and the relying party's pure pieces (discovery, authorization request)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from jobs.auth.oidc_claims import ClaimError, map_identity, map_role, map_tenant
from jobs.auth.oidc_client import ProviderError, authorization_url, end_session_url, new_pending_login, parse_metadata
from models.settings import DEFAULT_OIDC_ROLE_MAP, Settings

ROLE_MAP = dict(DEFAULT_OIDC_ROLE_MAP)


def identity(claims: dict[str, Any], default_role: str = "") -> Any:
    return map_identity(claims, tenant_claim="tenant", role_claim="groups", role_map=ROLE_MAP,
                        default_role=default_role)


def person(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"sub": "s-1", "email": "Ana@Alpha.Example", "email_verified": True, "name": "Ana",
                            "tenant": "alpha", "groups": ["staff", "sg-approver"]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_claims_map_to_tenant_role_and_normalised_email() -> None:
    who = identity(person())
    assert (who.subject, who.email, who.tenant_name, who.role, who.email_verified) == (
        "s-1", "ana@alpha.example", "alpha", "approver", True)


def test_the_highest_mapped_group_wins() -> None:
    assert map_role(person(groups=["sg-viewer", "sg-admin", "sg-analyst"]), role_claim="groups",
                    role_map=ROLE_MAP, default_role="") == "admin"


def test_a_single_group_may_be_a_string_and_the_claim_may_be_nested() -> None:
    assert map_role({"groups": "sg-analyst"}, role_claim="groups", role_map=ROLE_MAP, default_role="") == "analyst"
    nested = {"realm_access": {"roles": ["sg-viewer"]}}
    assert map_role(nested, role_claim="realm_access.roles", role_map=ROLE_MAP, default_role="") == "viewer"


def test_no_mapped_group_is_refused_unless_a_default_role_is_set() -> None:
    with pytest.raises(ClaimError) as caught:
        identity(person(groups=["staff"]))
    assert caught.value.code == "no_role"
    assert identity(person(groups=None), default_role="viewer").role == "viewer"


def test_a_mapping_to_an_unknown_role_grants_nothing() -> None:
    with pytest.raises(ClaimError):
        map_role({"groups": ["root"]}, role_claim="groups", role_map={"root": "superuser"}, default_role="")


@pytest.mark.parametrize(("tenant", "code"), [(None, "no_tenant"), ("", "no_tenant"), ([], "no_tenant"),
                                              (["alpha", "bravo"], "ambiguous_tenant"), (42, "no_tenant")])
def test_tenant_must_be_exactly_one_name(tenant: Any, code: str) -> None:
    with pytest.raises(ClaimError) as caught:
        map_tenant({"tenant": tenant}, tenant_claim="tenant")
    assert caught.value.code == code


def test_a_one_element_tenant_list_names_that_tenant() -> None:
    assert map_tenant({"org": [" bravo "]}, tenant_claim="org") == "bravo"


@pytest.mark.parametrize(("changes", "code"), [({"sub": None}, "no_subject"), ({"sub": " "}, "no_subject"),
                                               ({"email": None}, "no_email"), ({"email": "ana"}, "no_email")])
def test_subject_and_email_are_required(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(ClaimError) as caught:
        identity(person(**changes))
    assert caught.value.code == code


def test_unverified_email_is_carried_as_unverified() -> None:
    assert identity(person(email_verified="true")).email_verified is False


def test_settings_enable_sso_only_with_issuer_and_client_and_read_the_role_map() -> None:
    assert not Settings(oidc_issuer="https://idp.example").oidc_enabled
    on = Settings(oidc_issuer="https://idp.example", oidc_client_id="sg",
                  oidc_role_map={"ops": "admin"}, oidc_client_secret="s3cret-value")  # type: ignore[arg-type]
    assert on.oidc_enabled and on.oidc_role_map == {"ops": "admin"}
    assert "s3cret-value" not in repr(on)
    with pytest.raises(ValueError, match="oidc_role_map"):
        Settings(oidc_role_map={"ops": "root"})  # type: ignore[dict-item]


DOC = {
    "issuer": "https://idp.example", "authorization_endpoint": "https://idp.example/auth",
    "token_endpoint": "https://idp.example/token", "jwks_uri": "https://idp.example/jwks",
    "userinfo_endpoint": "https://idp.example/me", "end_session_endpoint": "https://idp.example/session/end",
    "code_challenge_methods_supported": ["S256"], "id_token_signing_alg_values_supported": ["RS256"],
}


def test_discovery_for_another_issuer_or_without_s256_is_refused() -> None:
    assert parse_metadata(DOC, issuer="https://idp.example").token_endpoint == "https://idp.example/token"
    with pytest.raises(ProviderError, match="calls itself"):
        parse_metadata(DOC, issuer="https://other.example")
    with pytest.raises(ProviderError, match="S256"):
        parse_metadata({**DOC, "code_challenge_methods_supported": ["plain"]}, issuer="https://idp.example")
    with pytest.raises(ProviderError, match="jwks_uri"):
        parse_metadata({k: v for k, v in DOC.items() if k != "jwks_uri"}, issuer="https://idp.example")


def test_the_authorization_request_carries_pkce_s256_state_and_nonce() -> None:
    metadata = parse_metadata(DOC, issuer="https://idp.example")
    state, pending = new_pending_login(next_path="/drift", browser_secret="b")
    url = authorization_url(metadata, client_id="sg", redirect_uri="http://localhost:3000/auth/oidc/callback",
                            scope="openid email", state=state, pending=pending)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.code_verifier.encode()).digest()).rstrip(b"=")
    assert query["code_challenge"] == challenge.decode() and query["code_challenge_method"] == "S256"
    assert (query["state"], query["nonce"], query["response_type"]) == (state, pending.nonce, "code")
    assert pending.code_verifier not in url
    assert len(state) >= 32 and state != pending.nonce


def test_logout_goes_to_the_end_session_endpoint_only_when_advertised() -> None:
    metadata = parse_metadata(DOC, issuer="https://idp.example")
    url = end_session_url(metadata, client_id="sg", post_logout_redirect_uri="http://localhost:3000/login")
    assert url is not None and url.startswith("https://idp.example/session/end?client_id=sg&")
    bare = parse_metadata({k: v for k, v in DOC.items() if k != "end_session_endpoint"}, issuer="https://idp.example")
    assert end_session_url(bare, client_id="sg", post_logout_redirect_uri="x") is None
