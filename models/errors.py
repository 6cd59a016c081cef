"""Errors the query layer raises, and the API's status for each.

    Exception
     └── SecureGuardError   every expected, user-facing error; `code` names it in API answers
          ├── NotFound      404  the row does not exist *for this tenant* (never says whether another has it)
          ├── Forbidden     403  the actor's role or tenant does not allow the action
          ├── Conflict      409  the change clashes with existing data (duplicate name, bad transition)
          └── Invalid       422  the input breaks a rule (unknown status, bad date, empty reason); also a
               │                 ValueError, so `except ValueError` callers keep catching it
               └── BadRange      `jobs.runtime.windows`: a date range a user gave (code `invalid_range`)

The API maps each class to its status once (`dashboard.api.errors`); the answer is
`{"error": {"code": <code>, "message": <message>}}`.
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


class Invalid(SecureGuardError, ValueError):
    """Input a user gave that breaks a rule; the message says which and how to fix it."""

    code = "invalid_request"
