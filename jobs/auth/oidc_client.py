"""The relying-party side of OpenID Connect: discovery, keys, the code exchange, userinfo, pending sign-ins.

authlib builds the authorization request (PKCE S256 challenge, grant URI, token request body); httpx carries
it (authlib's own httpx integration now asks for httpx2). A pending sign-in (nonce, PKCE verifier, where to
go next, a hash of the browser-binding cookie) waits in Redis under the hash of its `state`, for one use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from redis.asyncio import Redis

from models.credentials import hash_secret

METADATA_TTL_SECONDS = 300
PENDING_TTL_SECONDS = 600
HTTP_TIMEOUT_SECONDS = 10.0


class ProviderError(Exception):
    """The identity provider could not be used; the message is safe to show and holds no secret."""


def pending_login_key(state_hash: str) -> str:
    """A sign-in started at the provider and not yet come back."""
    return f"sg:oidc-login:{state_hash}"


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    id_token_algorithms: tuple[str, ...]


@dataclass(frozen=True)
class PendingLogin:
    nonce: str
    code_verifier: str
    next_path: str
    browser_hash: str


def discovery_url(issuer: str) -> str:
    """OpenID Connect Discovery 1.0 §4: the issuer plus the well-known path."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def parse_metadata(doc: Mapping[str, Any], *, issuer: str) -> ProviderMetadata:
    """The endpoints we use, refusing a document for another issuer or one without PKCE S256."""
    if doc.get("issuer") != issuer:
        raise ProviderError(
            f"the provider calls itself {str(doc.get('issuer'))[:200]!r}, not the configured SG_OIDC_ISSUER {issuer!r}"
        )
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not isinstance(doc.get(k), str)]
    if missing:
        raise ProviderError(f"the provider's discovery document lacks {', '.join(missing)}")
    methods = doc.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise ProviderError("the provider does not support PKCE with S256")
    algs = doc.get("id_token_signing_alg_values_supported")
    optional = {k: doc[k] if isinstance(doc.get(k), str) else None
                for k in ("userinfo_endpoint", "end_session_endpoint")}
    return ProviderMetadata(
        issuer=issuer, authorization_endpoint=doc["authorization_endpoint"], token_endpoint=doc["token_endpoint"],
        jwks_uri=doc["jwks_uri"], userinfo_endpoint=optional["userinfo_endpoint"],
        end_session_endpoint=optional["end_session_endpoint"],
        id_token_algorithms=tuple(a for a in algs if isinstance(a, str)) if isinstance(algs, list) else ("RS256",),
    )


async def _get_json(http: httpx.AsyncClient, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await http.get(url, **kwargs)
    except httpx.HTTPError as exc:
        problem = type(exc).__name__
        raise ProviderError(f"the identity provider could not be reached for its {what} ({problem})") from exc
    if response.status_code != 200:
        raise ProviderError(f"the identity provider answered {response.status_code} for its {what}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(f"the identity provider's {what} is not JSON") from exc
    if not isinstance(body, dict):
        raise ProviderError(f"the identity provider's {what} is not a JSON object")
    return body


# Per process: discovery and keys change rarely, and a sign-in should not wait for them twice.
_metadata_cache: dict[str, tuple[float, ProviderMetadata]] = {}
_jwks_cache: dict[str, tuple[float, dict[str, Any]]] = {}


async def get_metadata(http: httpx.AsyncClient, *, issuer: str) -> ProviderMetadata:
    """The provider's discovery document, cached for a few minutes."""
    cached = _metadata_cache.get(issuer)
    if cached and time.monotonic() - cached[0] < METADATA_TTL_SECONDS:
        return cached[1]
    metadata = parse_metadata(await _get_json(http, discovery_url(issuer), "discovery document"), issuer=issuer)
    _metadata_cache[issuer] = (time.monotonic(), metadata)
    return metadata


async def get_jwks(http: httpx.AsyncClient, *, metadata: ProviderMetadata, kid: str | None) -> dict[str, Any]:
    """The provider's signing keys; fetched again when the token names a key we have not seen (rotation)."""
    cached = _jwks_cache.get(metadata.jwks_uri)
    fresh = cached is not None and time.monotonic() - cached[0] < METADATA_TTL_SECONDS
    if cached and fresh and (kid is None or any(k.get("kid") == kid for k in cached[1].get("keys", []))):
        return cached[1]
    jwks = await _get_json(http, metadata.jwks_uri, "signing keys")
    if not isinstance(jwks.get("keys"), list):
        raise ProviderError("the identity provider's signing keys are not a JWK set")
    _jwks_cache[metadata.jwks_uri] = (time.monotonic(), jwks)
    return jwks


def new_pending_login(*, next_path: str, browser_secret: str) -> tuple[str, PendingLogin]:
    """A fresh `state` and what the callback must find under it."""
    pending = PendingLogin(
        nonce=generate_token(32), code_verifier=generate_token(64), next_path=next_path,
        browser_hash=hash_secret(browser_secret),
    )
    return generate_token(32), pending


def authorization_url(
    metadata: ProviderMetadata, *, client_id: str, redirect_uri: str, scope: str, state: str, pending: PendingLogin,
) -> str:
    """Where to send the browser: Authorization Code flow with PKCE S256, state and nonce."""
    return str(prepare_grant_uri(
        metadata.authorization_endpoint, client_id=client_id, response_type="code", redirect_uri=redirect_uri,
        scope=scope, state=state, nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.code_verifier), code_challenge_method="S256",
    ))


async def save_pending(redis: Redis, *, state: str, pending: PendingLogin) -> None:
    """Remember a started sign-in for ten minutes."""
    await redis.set(pending_login_key(hash_secret(state)), json.dumps(asdict(pending)), ex=PENDING_TTL_SECONDS)


async def take_pending(redis: Redis, *, state: str) -> PendingLogin | None:
    """The sign-in started with `state`, consuming it; None when unknown, used or expired."""
    raw = await redis.getdel(pending_login_key(hash_secret(state)))
    return PendingLogin(**json.loads(raw)) if raw else None


async def exchange_code(
    http: httpx.AsyncClient, *, metadata: ProviderMetadata, client_id: str, client_secret: str, code: str,
    redirect_uri: str, code_verifier: str,
) -> dict[str, Any]:
    """Trade the authorization code (with its PKCE verifier) for tokens; client_secret_basic authentication."""
    body = prepare_token_request("authorization_code", code=code, redirect_uri=redirect_uri,
                                 code_verifier=code_verifier)
    # RFC 6749 §2.3.1: id and secret are form-encoded before they go into the Basic header.
    auth = httpx.BasicAuth(quote(client_id, safe=""), quote(client_secret, safe=""))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    try:
        response = await http.post(metadata.token_endpoint, content=body, headers=headers, auth=auth)
    except httpx.HTTPError as exc:
        raise ProviderError(f"the identity provider could not be reached for the token ({type(exc).__name__})") from exc
    try:
        answer = response.json()
    except ValueError as exc:
        raise ProviderError(f"the identity provider answered {response.status_code} without JSON") from exc
    if response.status_code != 200 or not isinstance(answer, dict):
        code_name = answer.get("error", "error") if isinstance(answer, dict) else "error"
        raise ProviderError(f"the identity provider refused the authorization code ({str(code_name)[:40]})")
    if not isinstance(answer.get("id_token"), str):
        raise ProviderError("the identity provider returned no ID token (is the 'openid' scope requested?)")
    return answer


async def fetch_userinfo(http: httpx.AsyncClient, *, metadata: ProviderMetadata, access_token: str) -> dict[str, Any]:
    """The userinfo claims (some providers put email, groups and tenant only here)."""
    if not metadata.userinfo_endpoint:
        return {}
    headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
    return await _get_json(http, metadata.userinfo_endpoint, "userinfo", headers=headers)


def end_session_url(metadata: ProviderMetadata, *, client_id: str, post_logout_redirect_uri: str) -> str | None:
    """RP-initiated logout at the provider, when it advertises an end_session_endpoint."""
    if not metadata.end_session_endpoint:
        return None
    query = httpx.QueryParams({"client_id": client_id, "post_logout_redirect_uri": post_logout_redirect_uri})
    separator = "&" if "?" in metadata.end_session_endpoint else "?"
    return f"{metadata.end_session_endpoint}{separator}{query}"
