"""Secrets at rest: sealed under a key derived from SG_SECRET_KEY, unreadable under any other."""

from __future__ import annotations

import pytest

from models.secretbox import SecretUnreadable, seal, unseal

KEY = "a-test-secret-key-of-enough-length-000"


def test_round_trip_and_ciphertext_hides_the_plaintext() -> None:
    sealed = seal("ghp_exampletoken123456", secret_key=KEY)
    assert "ghp_exampletoken123456" not in sealed and "exampletoken" not in sealed
    assert unseal(sealed, secret_key=KEY) == "ghp_exampletoken123456"


def test_each_seal_differs_but_opens_to_the_same_value() -> None:
    assert seal("same", secret_key=KEY) != seal("same", secret_key=KEY)


def test_another_secret_key_cannot_open_it() -> None:
    sealed = seal("glpat-abcdefghij", secret_key=KEY)
    with pytest.raises(SecretUnreadable, match="SG_SECRET_KEY"):
        unseal(sealed, secret_key=KEY + "x")


def test_tampered_value_is_refused() -> None:
    sealed = seal("token", secret_key=KEY)
    flipped = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    with pytest.raises(SecretUnreadable):
        unseal(flipped, secret_key=KEY)


def test_default_key_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from models.settings import get_settings

    monkeypatch.setenv("SG_SECRET_KEY", KEY)
    get_settings.cache_clear()
    try:
        assert unseal(seal("v")) == "v"
        assert unseal(seal("v"), secret_key=KEY) == "v"
    finally:
        get_settings.cache_clear()
