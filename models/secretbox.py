"""Secrets kept at rest (Git provider tokens, integration credentials): Fernet under a key derived from
`SG_SECRET_KEY` with HKDF-SHA256, so the database alone never reveals them.

Changing `SG_SECRET_KEY` makes every stored secret unreadable (`SecretUnreadable`): re-enter them.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from models.settings import get_settings

# Distinct info strings give distinct keys, so a key derived for another purpose never opens these.
_INFO = b"secureguard/secretbox/v1"


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted: tampered with, or sealed under another SG_SECRET_KEY."""


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def seal(plaintext: str, *, secret_key: str | None = None) -> str:
    """`plaintext` encrypted and authenticated, as ASCII text to store."""
    key = secret_key if secret_key is not None else get_settings().secret_key
    return _fernet(key).encrypt(plaintext.encode()).decode("ascii")


def unseal(sealed: str, *, secret_key: str | None = None) -> str:
    """The plaintext of a value made by `seal`; raises SecretUnreadable when it cannot be opened."""
    key = secret_key if secret_key is not None else get_settings().secret_key
    try:
        return _fernet(key).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted (was SG_SECRET_KEY changed?): enter it again"
        ) from exc
