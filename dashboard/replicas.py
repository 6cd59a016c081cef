"""Web replicas: several backends share the tabs' state in Redis, and a tab whose backend dies is taken over,
state and all, by the backend its reconnect lands on.

Reflex records which backend holds each tab's socket (`token_manager_socket_record_<token>`, kept for an hour).
A backend killed with SIGKILL never deletes its records, so Reflex would treat the reconnecting tab as a
duplicate of a live one and hand it a new token: a blank state. Each backend therefore beats a short-lived key;
a record whose owner no longer beats is released before the link, and the tab keeps its token and its state.
A record whose owner still beats is left alone (a duplicated browser tab still gets its own token).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import pickle
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import reflex as rx
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from reflex.utils.token_manager import RedisTokenManager

from state import live
from state.base import AppState

logger = logging.getLogger(__name__)
BEAT_SECONDS = 1.0
BEAT_TTL_SECONDS = 3
ALIVE_PREFIX = "sg:web:alive:"


def alive_key(instance_id: str) -> str:
    """The key a backend instance refreshes while it runs."""
    return f"{ALIVE_PREFIX}{instance_id}"


async def owner_gone(redis: Redis, instance_id: str) -> bool:
    """Whether the backend `instance_id` stopped beating: its key expired, or never existed.

    A live owner rewrites its key every BEAT_SECONDS, so a changed value proves it alive within a beat; a dead
    one's key expires within BEAT_TTL_SECONDS.
    """
    key = alive_key(instance_id)
    first = await redis.get(key)
    deadline = time.monotonic() + BEAT_TTL_SECONDS + BEAT_SECONDS
    while first is not None and time.monotonic() < deadline:
        await asyncio.sleep(BEAT_SECONDS / 4)
        now = await redis.get(key)
        if now is None:
            return True
        if now != first:
            return False
    return first is None


class TakeoverTokenManager(RedisTokenManager):
    """Reflex's Redis token manager that takes over the tabs of a backend that died, and tells this backend's
    live push about every tab that connects (`on_link`)."""

    on_link: Callable[[str], Awaitable[None]] | None = None

    async def link_token_to_sid(self, token: str, sid: str) -> str | None:
        """Release the token's socket record when its owner is gone, then link as Reflex does."""
        await self._release_if_owner_gone(token)
        new_token = await super().link_token_to_sid(token, sid)
        if self.on_link is not None:
            await self.on_link(new_token or token)
        return new_token

    async def _release_if_owner_gone(self, token: str) -> None:
        key = self._get_redis_key(token)
        raw = await self.redis.get(key)
        if not raw:
            return
        owner = pickle.loads(raw).instance_id  # Reflex pickled this record itself
        if owner == self.instance_id or not await owner_gone(self.redis, owner):
            return
        # Only the record read above: another backend may have linked the tab meanwhile.
        if await self.redis.get(key) == raw:
            await self.redis.delete(key)
            logger.info("took over tab %s… from backend %s, which stopped", token[:8], owner[:8])


def describe_instance() -> str:
    """What the alive key holds: the time of the beat (so each beat changes it) and who beats."""
    return json.dumps({"ts": time.time(), "host": socket.gethostname(), "pid": os.getpid()})


async def _beat(redis: Redis, manager: RedisTokenManager) -> None:
    while True:
        try:
            await redis.set(alive_key(manager.instance_id), describe_instance(), ex=BEAT_TTL_SECONDS)
        except (RedisConnectionError, OSError) as exc:
            logger.warning("replica heartbeat: Redis unavailable (%s); retrying", type(exc).__name__)
        await asyncio.sleep(BEAT_SECONDS)


def replica_lifespan(app: rx.App) -> Callable[[], contextlib.AbstractAsyncContextManager[None]]:
    """A lifespan task: take over dead backends' tabs, and beat while this backend runs."""

    @contextlib.asynccontextmanager
    async def run() -> AsyncIterator[None]:
        namespace = app.event_namespace
        manager: Any = namespace._token_manager if namespace is not None else None
        if not isinstance(manager, RedisTokenManager):
            yield
            return
        # Same fields, one more rule: the swap keeps the manager's client and maps.
        manager.__class__ = TakeoverTokenManager
        takeover = cast(TakeoverTokenManager, manager)
        # A tab that reconnects here (its backend died) is signed in already: its page does not check the
        # session again, so the live push learns its tenant from its state.
        takeover.on_link = functools.partial(live.resume_session, app, AppState)
        redis = manager.redis
        beat = asyncio.create_task(_beat(redis, manager), name="sg-replica-beat")
        try:
            yield
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            with contextlib.suppress(RedisConnectionError, OSError):
                await redis.delete(alive_key(manager.instance_id))

    return run
