"""Validate an OpenID Connect ID token: signature against the provider's JWKS, then every claim we rely on.

Pure: the token, the key set and the expected values go in, the verified claims come out. The signature is
checked with joserfc (the JOSE library of authlib, which deprecates its own `authlib.jose`); the claim rules
follow OpenID Connect Core §3.1.3.7 and are spelled out here so each refusal has its own test.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.util import urlsafe_b64decode

# Asymmetric only: `none` is never acceptable, and HS* would let anyone holding the client secret (or, with a
# confused library, the public key) mint tokens.
ASYMMETRIC_ALGORITHMS = frozenset({
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
})
DEFAULT_LEEWAY_SECONDS = 60


class IdTokenError(Exception):
    """The ID token must not be trusted; the message names the failed check and holds no token material."""


def token_header(token: str) -> dict[str, Any]:
    """The decoded JOSE header of a compact JWS, before any verification."""
    parts = token.split(".")
    if len(parts) != 3:
        raise IdTokenError("the ID token is not a signed JWT")
    try:
        header = json.loads(urlsafe_b64decode(parts[0].encode("ascii")))
    except (ValueError, UnicodeError) as exc:
        raise IdTokenError("the ID token header is not valid JSON") from exc
    if not isinstance(header, dict):
        raise IdTokenError("the ID token header is not a JSON object")
    return header


def allowed_algorithms(advertised: Sequence[str] | None) -> list[str]:
    """The provider's advertised ID-token algorithms that we accept (RS256 when it advertises none)."""
    chosen = [alg for alg in (advertised or ["RS256"]) if alg in ASYMMETRIC_ALGORITHMS]
    if not chosen:
        raise IdTokenError("the provider advertises no asymmetric ID-token signing algorithm")
    return chosen


def verify_signature(token: str, *, jwks: Mapping[str, Any], algorithms: Sequence[str]) -> dict[str, Any]:
    """The token's claims when its signature verifies with a key of `jwks` under an allowed algorithm."""
    header = token_header(token)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms or alg not in ASYMMETRIC_ALGORITHMS:
        raise IdTokenError(f"the ID token algorithm {str(alg)[:20]!r} is not allowed")
    try:
        key_set = KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]
        decoded = jwt.decode(token, key_set, algorithms=[alg])
    except (JoseError, ValueError) as exc:
        raise IdTokenError("the ID token signature does not verify with the provider's keys") from exc
    return dict(decoded.claims)


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise IdTokenError(f"the ID token has no numeric {name!r} claim")
    return float(value)


def check_audience(claims: Mapping[str, Any], *, client_id: str) -> None:
    """We must be an audience; with several audiences, the authorized party must be us."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise IdTokenError("the ID token was issued for another client (audience)")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise IdTokenError("the ID token's authorized party is another client")


def check_times(claims: Mapping[str, Any], *, now: float, leeway: int) -> None:
    """Not expired, not issued in the future, not used before `nbf`."""
    if now > _number(claims, "exp") + leeway:
        raise IdTokenError("the ID token has expired")
    if _number(claims, "iat") > now + leeway:
        raise IdTokenError("the ID token was issued in the future")
    if "nbf" in claims and _number(claims, "nbf") > now + leeway:
        raise IdTokenError("the ID token is not valid yet")


def check_claims(
    claims: Mapping[str, Any], *, issuer: str, client_id: str, nonce: str, now: float | None = None,
    leeway: int = DEFAULT_LEEWAY_SECONDS,
) -> None:
    """Issuer, audience, times, nonce and subject of already signature-checked claims."""
    if claims.get("iss") != issuer:
        raise IdTokenError("the ID token was issued by another issuer")
    check_audience(claims, client_id=client_id)
    check_times(claims, now=time.time() if now is None else now, leeway=leeway)
    sent = claims.get("nonce")
    if not nonce or not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise IdTokenError("the ID token nonce does not match this sign-in")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise IdTokenError("the ID token has no subject")


def validate_id_token(
    token: str, *, jwks: Mapping[str, Any], issuer: str, client_id: str, nonce: str,
    algorithms: Sequence[str] = ("RS256",), now: float | None = None, leeway: int = DEFAULT_LEEWAY_SECONDS,
) -> dict[str, Any]:
    """The verified claims of an ID token issued by `issuer` to `client_id` for this sign-in's `nonce`."""
    claims = verify_signature(token, jwks=jwks, algorithms=algorithms)
    check_claims(claims, issuer=issuer, client_id=client_id, nonce=nonce, now=now, leeway=leeway)
    return claims
