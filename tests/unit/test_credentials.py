import pytest

from models.credentials import hash_password, hash_secret, new_secret, verify_password


def test_password_hash_is_argon2_and_verifies() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password("correct horse battery", hashed)
    assert not verify_password("wrong horse battery", hashed)


def test_missing_hash_never_verifies() -> None:
    assert not verify_password("anything-at-all", None)


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        hash_password("short")


def test_secrets_are_random_and_stored_hashed() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and a.startswith("sg_") and len(a) > 40
    assert hash_secret(a) != a and len(hash_secret(a)) == 64
