"""One-time login tickets.

The login form runs over Reflex's websocket, which cannot set an HttpOnly cookie; so a checked
password yields a 30-second single-use ticket, and `/auth/session` trades it for the cookie.
"""

from __future__ import annotations

from redis.asyncio import Redis

from jobs.runtime.constants import login_ticket_key
from models.credentials import hash_secret, new_secret

TICKET_TTL_SECONDS = 30


async def issue_ticket(redis: Redis, *, user_id: int) -> str:
    """A new ticket for `user_id`; only its hash is stored."""
    ticket = new_secret()
    await redis.set(login_ticket_key(hash_secret(ticket)), str(user_id), ex=TICKET_TTL_SECONDS)
    return ticket


async def redeem_ticket(redis: Redis, *, ticket: str) -> int | None:
    """The user id of a live ticket, consuming it; None when unknown, used or expired."""
    value = await redis.getdel(login_ticket_key(hash_secret(ticket)))
    return int(value) if value is not None else None
