"""Redis clients are per event loop: one loop reuses its client, a later loop never gets an earlier loop's."""

from __future__ import annotations

import asyncio
import gc

from redis.asyncio import Redis

from jobs.runtime import connections


async def _client_twice() -> tuple[Redis, Redis]:
    return connections.get_redis(), connections.get_redis()


def test_a_loop_reuses_its_client_and_a_new_loop_gets_its_own() -> None:
    # No command is sent: creating a client opens no connection.
    first, again = asyncio.run(_client_twice())
    assert first is again
    for _ in range(20):
        # Loops come and go (the clients are keyed by the loop's id()).
        gc.collect()
        client, _ = asyncio.run(_client_twice())
        assert client is not first
