"""Errors the query layer raises.

    SecureGuardError
     ├── NotFound      the row does not exist *for this tenant* (never says whether another has it)
     ├── Forbidden     the actor's role or tenant does not allow the action
     └── Conflict      the change clashes with existing data (duplicate name, bad transition)
"""

from __future__ import annotations


class SecureGuardError(Exception):
    """Base of every expected, user-facing error."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(SecureGuardError):
    code = "not_found"


class Forbidden(SecureGuardError):
    code = "forbidden"


class Conflict(SecureGuardError):
    code = "conflict"
