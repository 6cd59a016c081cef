"""The ID-token validator refuses every token it must not trust, and accepts the one it should."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from jobs.auth.oidc_token import IdTokenError, allowed_algorithms, validate_id_token

ISSUER = "https://idp.example"
CLIENT = "secureguard"
NONCE = "n-0S6_WzA2Mj"
NOW = 1_800_000_000
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
JWKS = {"keys": [KEY.as_dict(private=False)]}


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER, "aud": CLIENT, "sub": "user-1", "nonce": NONCE, "iat": NOW - 10, "exp": NOW + 300,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: Any = KEY, alg: str = "RS256", kid: str = "k1") -> str:
    return jwt.encode({"alg": alg, "kid": kid}, payload, key, algorithms=[alg])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def validate(token: str, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"jwks": JWKS, "issuer": ISSUER, "client_id": CLIENT, "nonce": NONCE, "now": NOW}
    options.update(kwargs)
    return validate_id_token(token, **options)


def test_a_good_token_gives_its_claims() -> None:
    assert validate(sign(claims()))["sub"] == "user-1"


def test_several_audiences_need_us_as_authorized_party() -> None:
    assert validate(sign(claims(aud=["api", CLIENT], azp=CLIENT)))["sub"] == "user-1"
    with pytest.raises(IdTokenError, match="authorized party"):
        validate(sign(claims(aud=["api", CLIENT])))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused(alg: str) -> None:
    header = b64(json.dumps({"alg": alg, "kid": "k1"}).encode())
    token = f"{header}.{b64(json.dumps(claims()).encode())}."
    with pytest.raises(IdTokenError, match="not allowed"):
        validate(token, algorithms=["RS256", alg])


def test_hs256_signed_with_the_public_key_as_secret_is_refused() -> None:
    # The classic confusion attack: the attacker knows the public key and uses it as an HMAC secret.
    public_pem = KEY.as_pem(private=False)
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': 'k1'}).encode())}.{b64(json.dumps(claims()).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(IdTokenError, match="not allowed"):
        validate(f"{signing_input}.{b64(signature)}", algorithms=["RS256", "HS256"])


def test_an_algorithm_the_provider_does_not_advertise_is_refused() -> None:
    with pytest.raises(IdTokenError, match="not allowed"):
        validate(sign(claims(), alg="RS512"), algorithms=["RS256"])


def test_a_signature_by_another_key_is_refused() -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    with pytest.raises(IdTokenError, match="signature"):
        validate(sign(claims(), key=other))


def test_a_tampered_payload_is_refused() -> None:
    header, _, signature = sign(claims()).split(".")
    forged = b64(json.dumps(claims(sub="admin")).encode())
    with pytest.raises(IdTokenError, match="signature"):
        validate(f"{header}.{forged}.{signature}")


def test_an_ec_token_without_a_matching_key_is_refused() -> None:
    ec = ECKey.generate_key("P-256", parameters={"kid": "k1"})
    with pytest.raises(IdTokenError, match="signature"):
        validate(sign(claims(), key=ec, alg="ES256"), algorithms=["RS256", "ES256"])


@pytest.mark.parametrize("aud", ["other-app", ["other-app", "api"], None])
def test_a_token_for_another_audience_is_refused(aud: Any) -> None:
    with pytest.raises(IdTokenError, match="another client"):
        validate(sign(claims(aud=aud)))


def test_a_token_naming_another_authorized_party_is_refused() -> None:
    with pytest.raises(IdTokenError, match="authorized party"):
        validate(sign(claims(aud=[CLIENT, "other-app"], azp="other-app")))


@pytest.mark.parametrize("iss", ["https://evil.example", "https://idp.example/", None])
def test_a_token_from_another_issuer_is_refused(iss: Any) -> None:
    with pytest.raises(IdTokenError, match="another issuer"):
        validate(sign(claims(iss=iss)))


def test_an_expired_token_is_refused_past_the_leeway() -> None:
    assert validate(sign(claims(exp=NOW - 30)))["sub"] == "user-1"
    with pytest.raises(IdTokenError, match="expired"):
        validate(sign(claims(exp=NOW - 61)))


@pytest.mark.parametrize("name", ["exp", "iat"])
def test_a_token_without_its_times_is_refused(name: str) -> None:
    with pytest.raises(IdTokenError, match=name):
        validate(sign(claims(**{name: None})))


def test_a_token_from_the_future_is_refused() -> None:
    with pytest.raises(IdTokenError, match="future"):
        validate(sign(claims(iat=NOW + 3600, exp=NOW + 7200)))
    with pytest.raises(IdTokenError, match="not valid yet"):
        validate(sign(claims(nbf=NOW + 3600)))


@pytest.mark.parametrize("sent", [None, "another-nonce", ""])
def test_a_missing_or_wrong_nonce_is_refused(sent: Any) -> None:
    with pytest.raises(IdTokenError, match="nonce"):
        validate(sign(claims(nonce=sent)))


def test_an_empty_expected_nonce_never_matches() -> None:
    with pytest.raises(IdTokenError, match="nonce"):
        validate(sign(claims(nonce="")), nonce="")


def test_garbage_is_refused_without_echoing_it() -> None:
    with pytest.raises(IdTokenError) as caught:
        validate("not-a-jwt")
    assert "not-a-jwt" not in str(caught.value)
    with pytest.raises(IdTokenError, match="header"):
        validate("!!!.e30.")


def test_only_asymmetric_advertised_algorithms_are_allowed() -> None:
    assert allowed_algorithms(["HS256", "RS256", "none", "ES256"]) == ["RS256", "ES256"]
    assert allowed_algorithms(None) == ["RS256"]
    with pytest.raises(IdTokenError):
        allowed_algorithms(["HS256", "none"])
