"""One-time login tickets, bound to the browser that asked for one.

The login form runs over Reflex's websocket, which cannot set an HttpOnly cookie; so a checked
password yields a 30-second single-use ticket, and the page posts it to `/auth/session` for the cookie.

A ticket alone would be a login-CSRF handle: whoever holds it could make another browser redeem it and
sign that browser into the ticket's account. So each browser carries a random login nonce in an
HttpOnly cookie (`LOGIN_NONCE_COOKIE`, handed out with the pages), the ticket stores the nonce's hash
that came with the websocket of the login form, and only a request bearing the same nonce redeems it.
"""

from __future__ import annotations

import hmac
import json

from redis.asyncio import Redis

from jobs.runtime.constants import login_ticket_key
from models.credentials import hash_secret, new_secret

TICKET_TTL_SECONDS = 30
LOGIN_NONCE_COOKIE = "sg_login_nonce"
LOGIN_NONCE_DAYS = 30


def new_login_nonce() -> str:
    """A fresh value for the login-nonce cookie."""
    return new_secret()


async def issue_ticket(redis: Redis, *, user_id: int, nonce: str) -> str:
    """A new ticket for `user_id`, redeemable only with `nonce`; only hashes are stored."""
    if not nonce:
        raise ValueError("a login ticket needs the browser's login nonce")
    ticket = new_secret()
    value = json.dumps({"user_id": user_id, "nonce": hash_secret(nonce)})
    await redis.set(login_ticket_key(hash_secret(ticket)), value, ex=TICKET_TTL_SECONDS)
    return ticket


async def redeem_ticket(redis: Redis, *, ticket: str, nonce: str) -> int | None:
    """The user id of a live ticket issued to this nonce; None when unknown, used, expired or another browser's.

    The ticket is consumed by any attempt, so a refused replay also ends it.
    """
    value = await redis.getdel(login_ticket_key(hash_secret(ticket)))
    if value is None:
        return None
    stored = json.loads(value)
    if not nonce or not hmac.compare_digest(str(stored["nonce"]), hash_secret(nonce)):
        return None
    return int(stored["user_id"])
