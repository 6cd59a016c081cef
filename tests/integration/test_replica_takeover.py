"""The token manager of dashboard/replicas.py against a real Redis: a tab whose backend stopped beating keeps
its token (so its state) on the backend it reconnects to; a tab whose backend still beats is a duplicate and
gets a new token; and Reflex's own manager, without the takeover, hands the orphaned tab a new token."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from reflex.utils.token_manager import RedisTokenManager, SocketRecord

from dashboard.replicas import BEAT_SECONDS, TakeoverTokenManager, alive_key, describe_instance
from tests.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.integration
TOKEN = "tab-token-0001"


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(TEST_REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


async def _orphan(redis: Redis, owner: str) -> None:
    """The socket record a backend leaves when it dies holding the tab."""
    record = SocketRecord(instance_id=owner, sid="sid-on-the-dead-backend")
    await redis.set(RedisTokenManager._token_socket_record_prefix + TOKEN, pickle.dumps(record), ex=3600)


def _manager(redis: Redis, cls: type[RedisTokenManager]) -> RedisTokenManager:
    manager = cls(redis)
    manager._ensure_socket_record_task = lambda: None  # type: ignore[method-assign]  # no keyspace listener here
    return manager


async def test_a_dead_backends_tab_keeps_its_token(redis: Redis) -> None:
    await _orphan(redis, "dead-instance")
    linked: list[str] = []

    async def on_link(token: str) -> None:
        linked.append(token)

    manager = _manager(redis, TakeoverTokenManager)
    manager.on_link = on_link  # type: ignore[attr-defined]  # _manager is typed as Reflex's class
    assert await manager.link_token_to_sid(TOKEN, "sid-here") is None
    record = pickle.loads(await redis.get(RedisTokenManager._token_socket_record_prefix + TOKEN))
    assert record.instance_id == manager.instance_id
    assert linked == [TOKEN]


async def test_without_the_takeover_reflex_gives_the_orphan_a_new_token(redis: Redis) -> None:
    await _orphan(redis, "dead-instance")
    new_token = await _manager(redis, RedisTokenManager).link_token_to_sid(TOKEN, "sid-here")
    assert new_token not in (None, TOKEN)


async def test_a_tab_of_a_backend_still_beating_is_a_duplicate(redis: Redis) -> None:
    await _orphan(redis, "live-instance")

    async def beat() -> None:
        while True:
            await redis.set(alive_key("live-instance"), describe_instance(), ex=3)
            await asyncio.sleep(BEAT_SECONDS)

    beating = asyncio.create_task(beat())
    try:
        await asyncio.sleep(0.05)
        started = asyncio.get_running_loop().time()
        new_token = await _manager(redis, TakeoverTokenManager).link_token_to_sid(TOKEN, "sid-here")
        waited = asyncio.get_running_loop().time() - started
    finally:
        beating.cancel()
        await asyncio.gather(beating, return_exceptions=True)
    assert new_token not in (None, TOKEN)
    assert waited < BEAT_SECONDS * 2  # a live owner is known within about one beat
