"""Password hashing (argon2id) and random bearer secrets (API tokens, session ids)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
TOKEN_PREFIX = "sg_"
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """An argon2id hash of `password`; refuses passwords too short to be useful."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps the time of "no such user" equal to "wrong password" (made on first
    use: hashing at import cost every process that imports this module 0.25–0.6 s)."""
    return _hasher.hash("not-a-real-password")


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether `password` matches; constant work when there is no hash."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """A fresh random bearer secret (256 bits, URL-safe)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The sha256 hex digest under which a bearer secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()
